// A GPS receiver on an imp001's hardware.uart12 at 9600 baud: Electric Imp's GPS UART driver
// collects the NMEA sentences and its parser reads them; each fix is logged and sent to the
// agent.
#require "GPSParser.device.lib.nut:1.0.0"
#require "GPSUARTDriver.device.lib.nut:1.2.0"

local fixes = 0;
gps <- GPSUARTDriver(hardware.uart12, {
    "baudRate": 9600,
    "gpsDataReady": function(hasLocation, data) {
        if (hasLocation && fixes++ < 3) {
            server.log(format("Fix: latitude %s, longitude %s", gps.getLatitude(), gps.getLongitude()));
            agent.send("fix", { "lat": gps.getLatitude(), "lng": gps.getLongitude() });
        }
    }
});
server.log("GPS UART configured");
