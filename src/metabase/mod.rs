//! PLACEHOLDER: the metabase module is being written; this file is replaced by it.
