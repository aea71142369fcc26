//! PLACEHOLDER: the rightech module is being written; this file is replaced by it.
