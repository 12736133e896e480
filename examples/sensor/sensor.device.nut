// Temperature and humidity from an HTS221 sensor on an imp001 (the impExplorer Developer
// Kit 001 layout: the sensor at 8-bit address 0xBE on hardware.i2c89), read with Electric
// Imp's HTS221 driver library every five seconds and sent to the agent.
#require "HTS221.device.lib.nut:2.0.2"

local i2c = hardware.i2c89;
i2c.configure(CLOCK_SPEED_400_KHZ);

local sensor = HTS221(i2c, 0xBE);
sensor.setMode(HTS221_MODE.ONE_SHOT);
server.log(format("HTS221 found: WHO_AM_I 0x%02X", sensor.getDeviceID()));

function takeReading() {
    sensor.read(function(result) {
        if ("error" in result) {
            server.error("HTS221: " + result.error);
        } else {
            server.log(format("Temperature %.1f C, humidity %.1f %%", result.temperature, result.humidity));
            agent.send("reading", result);
        }
        imp.wakeup(5, takeReading);
    });
}

takeReading();
