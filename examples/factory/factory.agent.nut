// Factory firmware sample (agent side): a DUT's agent reports its device's result; the
// fixture's agent has nothing to do. factory_fixture_url exists only on agents of DUTs.

local params = imp.configparams;
if ("factory_fixture_url" in params) {
    device.on("result", function(r) {
        server.log("Result of " + params.deviceid + ": tests " + (r.passed ? "passed" : "failed")
            + ", " + (r.blessed ? "blessed" : "not blessed"));
    });
}
