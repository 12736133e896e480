//! `impt log` commands.

use super::spec::{CmdSpec, GroupSpec, Opt};
use crate::commands::{log, Args, Ctx};
use crate::error::{ImptError, Result};

pub fn group() -> GroupSpec {
    GroupSpec {
        name: "log",
        about: "Device logs: historical logs and real-time log streams.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new("log", "get", "Displays the historical logs of a Device.", "Displays the saved logs of a Device, newest first, page by page (Enter shows the next page, Ctrl-C stops). Without --device, the only Device of the Project's Device Group is used.", vec![
            Opt::s("device", 'd', "DEVICE_IDENTIFIER", "The Device. Default: the only Device assigned to the Project's Device Group."),
            Opt::n("page-size", 's', "number_of_entries", "How many log entries one page has.").default("20"),
            Opt::n("page-number", 'n', "page_number", "Shows only this page (page 1 has the newest entries) and exits."),
        ]),
        CmdSpec::new("log", "stream", "Streams the logs of Devices in real time.", "Opens a log stream for the given Devices and the Devices of the given Device Groups (default: the Devices of the Project's Device Group) and shows the log entries as they arrive, until Ctrl-C.", vec![
            Opt::a("device", 'd', "DEVICE_IDENTIFIER", "A Device to stream logs of. Repeatable."),
            Opt::a("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "A Device Group whose Devices' logs are streamed. Repeatable. Default: the Project's Device Group."),
        ]),
    ]
}

pub async fn run(ctx: &Ctx, cmd: &str, args: &Args) -> Result<()> {
    match cmd {
        "get" => log::get(ctx, args).await,
        "stream" => log::stream(ctx, args).await,
        _ => Err(ImptError::Internal(format!("unknown command log {cmd}"))),
    }
}
