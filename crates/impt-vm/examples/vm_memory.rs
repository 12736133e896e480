//! Heap bytes of a fresh device and agent VM (the imp API loaded), after idle code, and
//! after code that uses `hardware` (benches/sim_scale_devices.sh gives the whole sim's RSS).
use impt_vm::{Host, Limits, LogKind, Side, Value, Vm};

struct H(Side);
impl Host for H {
    fn side(&self) -> Side {
        self.0
    }
    fn log(&mut self, _kind: LogKind, _message: &str) {}
    fn now(&self) -> f64 {
        0.0
    }
    fn send(&mut self, _name: &str, _data: Value) {}
}

fn main() {
    for side in [Side::Device, Side::Agent] {
        let mut vm = Vm::new(Limits::default(), Box::new(H(side))).expect("VM");
        let fresh = vm.memory_used();
        let idle = "imp.wakeup(3600, function() { server.log(\"an hour\"); });";
        vm.run_main(idle, "main").expect("idle code");
        let after_idle = vm.memory_used();
        let _ = vm.run_main("local p = hardware.pin1;", "hw");
        println!(
            "{side:?}: {fresh} bytes with the API, {after_idle} after idle code, {} after using hardware",
            vm.memory_used()
        );
    }
}
