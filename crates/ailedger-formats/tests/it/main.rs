//! Integration tests of ailedger-formats over the shared real-world fixtures and our
//! own lockfile test data.
