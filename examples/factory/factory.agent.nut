// Factory firmware sample (agent side): a DUT's agent reports its device's result; the
// fixture's agent says where its DUTs' agents reach it. FactoryTools tells them apart
// (a DUT's agent has imp.configparams.factory_fixture_url).
#require "FactoryTools.lib.nut:2.2.0"

if (FactoryTools.isDeviceUnderTest()) {
    device.on("result", function(r) {
        server.log("Result of " + imp.configparams.deviceid + ": tests "
            + (r.passed ? "passed" : "failed") + ", " + (r.blessed ? "blessed" : "not blessed")
            + " (fixture at " + FactoryTools.getFactoryFixtureURL() + ")");
    });
} else if (FactoryTools.isFactoryFixture()) {
    server.log("Fixture agent at " + FactoryTools.getFactoryFixtureURL());
}
