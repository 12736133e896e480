// Agent side of the hello example: logs what the device sends.
server.log("Hello World, from your Agent!");

device.on("reading", function(data) {
    server.log("Reading #" + data.count + " from " + data.mac);
});
