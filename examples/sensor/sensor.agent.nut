// Keeps the device's latest reading and serves it at the agent URL as JSON.
local latest = null;

device.on("reading", function(reading) {
    latest = reading;
    server.log(format("Agent got %.1f C, %.1f %%", reading.temperature, reading.humidity));
});

http.onrequest(function(req, res) {
    res.header("Content-Type", "application/json");
    res.send(200, http.jsonencode(latest == null ? {} : latest));
});
