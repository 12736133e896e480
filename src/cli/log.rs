//! `impt log` commands.

use super::spec::{run, CmdSpec, GroupSpec};
use crate::commands::log;

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "log",
        about: "Device logs: historical logs and real-time log streams.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("log", "get", "Displays the historical logs of a Device.", "Displays the saved logs of a Device, newest first, page by page (Enter shows the next page, Ctrl-C stops). Without --device, the only Device of the Project's Device Group is used.", log::GetOpts::table())
        .run(run!(log::get, log::GetOpts)),
        CmdSpec::new("log", "stream", "Streams the logs of Devices in real time.", "Opens a log stream for the given Devices and the Devices of the given Device Groups (default: the Devices of the Project's Device Group) and shows the log entries as they arrive, until Ctrl-C.", log::StreamOpts::table())
        .run(run!(log::stream, log::StreamOpts)),
    ]
}
