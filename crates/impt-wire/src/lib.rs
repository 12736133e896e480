//! The impCentral API v5 wire vocabulary shared by the `impt` client and the simulator
//! (`impt_sim`): Device Group types and their predicates, webhook events and content types,
//! log types.

#![forbid(unsafe_code)]

pub mod types;
