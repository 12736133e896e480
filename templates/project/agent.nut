// Agent code: it runs in the cloud next to your device.

server.log("Hello from the agent!");

device.on("pong", function(data) {
    server.log("pong received: " + data);
});

// Try it: curl -d hi <agent URL>
http.onrequest(function(request, response) {
    device.send("ping", request.body);
    response.send(200, "OK");
});
