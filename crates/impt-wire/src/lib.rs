//! The impCentral API v5 wire vocabulary shared by the `impt` client and the simulator
//! (`impt_sim`): Device Group types and their predicates, webhook events and content types,
//! log types ([`types`]), and the request documents the client sends ([`requests`]).

#![forbid(unsafe_code)]

pub mod requests;
pub mod types;
