//! PLACEHOLDER: the rounds module is being written; this file is replaced by it.
