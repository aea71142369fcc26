//! PLACEHOLDER: the diadoc module is being written; this file is replaced by it.
