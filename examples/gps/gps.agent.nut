device.on("fix", function(fix) {
    server.log("Agent got a fix: " + fix.lat + ", " + fix.lng);
});
