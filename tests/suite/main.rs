//! The integration test suite: one test binary (`cargo test --test suite`), one module per
//! feature, all sharing `support` (see `support/mod.rs` for what it offers). Run one module
//! with `cargo test --test suite sim_auth::`. To add one, see `README.md` in this directory.

#![forbid(unsafe_code)]

mod support;

mod builder_compat;
mod builder_directives;
mod builder_nopanic;
mod builder_parity;
mod builder_remote;
mod cli_account;
mod cli_auth;
mod cli_build;
mod cli_build_preprocess;
mod cli_device;
mod cli_dg;
mod cli_errors;
mod cli_log;
mod cli_loginkey_webhook;
mod cli_newcomer;
mod cli_product;
mod cli_project;
mod cli_sim_device;
mod cli_test_ci;
mod cli_test_config;
mod cli_test_report;
mod cli_test_run;
mod firstrun_cli;
mod firstrun_install;
mod firstrun_json;
mod firstrun_logs;
mod firstrun_sim;
mod guide_flow;
mod hostile_cli_files;
mod hostile_sim;
mod hostile_state;
mod loop_errors;
mod loop_heal;
mod loop_pending;
mod loop_test_run;
mod loop_trust;
mod loop_truth;
mod sim_agent_http;
mod sim_auth;
mod sim_control;
mod sim_device_boot;
mod sim_factory;
mod sim_hardware;
mod sim_lib;
mod sim_libraries;
mod sim_life;
mod sim_limits;
mod sim_logs;
mod sim_require;
mod sim_resources;
mod sim_runtime;
mod sim_state;
mod sim_vm_run;
mod sim_wire;
mod suite_layout;
mod vm_api;
mod vm_crypto_sign;
mod vm_hardware;
mod vm_imp_semantics;
mod vm_limits;
mod watch_factory;
mod watch_loop;
mod watch_sim;
mod watch_tests;
mod workspace_layers;
