// Factory firmware sample (device side). The same code runs on the BlinkUp fixture and on
// every device under test (DUT) it configures; imp.configparams tells them apart: on both,
// factory_imp_device_id is the fixture's device id.

// Devices under test the fixture configures, one after the other.
const DUT_COUNT = 2;
// Seconds between two factory BlinkUps.
const BLINKUP_EVERY = 3;

local params = imp.configparams;
local myId = hardware.getdeviceid();
local inFactory = "factory_imp_device_id" in params;
local isFixture = inFactory && params.factory_imp_device_id == myId;

function blinkUpNext(left) {
    if (left == 0) {
        server.log("Fixture: all devices under test configured");
        return;
    }
    server.log("Fixture: BlinkUp of the next device under test");
    // SSID, password, the pin of the BlinkUp LED, flags
    server.factoryblinkup("FactoryWiFi", "factory-password", hardware.pinA, 0);
    imp.wakeup(BLINKUP_EVERY, function() { blinkUpNext(left - 1); });
}

// The test of a DUT: drive a pin and read it back.
function testPin() {
    local pin = hardware.pinB;
    pin.configure(DIGITAL_OUT);
    pin.write(1);
    local high = pin.read() == 1;
    pin.write(0);
    local low = pin.read() == 0;
    return high && low;
}

if (isFixture) {
    server.log("Fixture " + myId + " ready");
    blinkUpNext(DUT_COUNT);
} else if (inFactory) {
    local passed = testPin();
    server.log("DUT " + myId + ": pin test " + (passed ? "passed" : "failed"));
    server.bless(passed, function(blessed) {
        server.log("DUT " + myId + ": " + (blessed ? "blessed" : "not blessed"));
        agent.send("result", { passed = passed, blessed = blessed });
    });
} else {
    server.log("Not in a factory: this firmware does nothing here");
}
