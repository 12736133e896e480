//! `impt sim device` commands: drive a running simulator's virtual devices.

use super::spec::{run, CmdSpec, GroupSpec};
use crate::commands::simdevice;

/// The group's name, as its help and usage lines show it.
pub const NAME: &str = "sim device";

pub fn group() -> GroupSpec {
    GroupSpec {
        name: NAME,
        about: "Drives the virtual devices of a running simulator (impt sim, impt watch --sim) from another shell: cuts and restores their connection, power-cycles them, drives their input pins.",
        commands: commands(),
    }
}

fn commands() -> Vec<CmdSpec> {
    vec![
        CmdSpec::new(NAME, "disconnect", "Cuts a virtual device's connection.", "Cuts the network connection of a virtual device, for some seconds or until impt sim device reconnect. Its code sees the loss as an imp does: server.isconnected() is false, server.onunexpecteddisconnect handlers run, sends fail or wait as the send timeout policy says, and the agent's device.ondisconnect handler runs.", simdevice::DisconnectOpts::table())
        .run(run!(simdevice::disconnect, simdevice::DisconnectOpts)),
        CmdSpec::new(NAME, "list", "Lists the simulator's virtual devices.", "Lists every virtual device of the simulator: id, MAC address, imp type, whether it is online, its account and its Device Group.", simdevice::ListOpts::table())
        .run(run!(simdevice::list, simdevice::ListOpts)),
        CmdSpec::new(NAME, "pin", "Drives an input pin of a virtual device.", "Sets the level of an input pin of a virtual device: 0 or 1 on a digital input (a change runs the callback of hardware.pinX.configure(DIGITAL_IN, callback)), a level from 0.0 to 1.0 on an analog input (what pin.read() returns).", simdevice::PinOpts::table())
        .run(run!(simdevice::pin, simdevice::PinOpts)),
        CmdSpec::new(NAME, "power-cycle", "Powers a virtual device off and on.", "Powers a virtual device off and on: its code starts again with hardware.wakereason() WAKEREASON_POWER_ON and an empty nv table.", simdevice::DeviceOpts::table())
        .run(run!(simdevice::power_cycle, simdevice::DeviceOpts)),
        CmdSpec::new(NAME, "reconnect", "Restores a virtual device's connection.", "Restores the network connection that impt sim device disconnect cut.", simdevice::DeviceOpts::table())
        .run(run!(simdevice::reconnect, simdevice::DeviceOpts)),
    ]
}
