// Factory firmware sample (device side). The same code runs on the BlinkUp fixture and on
// every device under test (DUT) it configures; Electric Imp's FactoryTools library tells
// them apart (from imp.configparams, as on a real imp).
#require "FactoryTools.lib.nut:2.2.0"

// Devices under test the fixture configures, one after the other.
const DUT_COUNT = 2;
// Seconds between two factory BlinkUps.
const BLINKUP_EVERY = 3;

local myId = hardware.getdeviceid();

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

FactoryTools.isFactoryFirmware(function(inFactory) {
    if (!inFactory) {
        server.log("Not in a factory: this firmware does nothing here");
    } else if (FactoryTools.isFactoryFixture()) {
        server.log("Fixture " + myId + " ready");
        blinkUpNext(DUT_COUNT);
    } else if (FactoryTools.isDeviceUnderTest()) {
        local passed = testPin();
        server.log("DUT " + myId + ": pin test " + (passed ? "passed" : "failed"));
        server.bless(passed, function(blessed) {
            server.log("DUT " + myId + ": " + (blessed ? "blessed" : "not blessed"));
            agent.send("result", { passed = passed, blessed = blessed });
        });
    }
});
