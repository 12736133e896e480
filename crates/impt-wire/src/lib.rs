//! The impCentral API v5 wire vocabulary shared by the `impt` client and the simulator
//! (`impt_sim`): Device Group types and their predicates, webhook events and content types,
//! log types ([`types`]), the request documents the client sends ([`requests`]), and the
//! factory's log lines the sim writes and `impt watch` recognises ([`factory`]).

#![forbid(unsafe_code)]

pub mod factory;
pub mod requests;
pub mod types;
