// Agent code of the hello sample.

server.log("Hello from the agent!");

device.on("pong", function(data) {
    server.log("pong received");
});

http.onrequest(function(request, response) {
    device.send("ping", request.body);
    response.send(200, "OK");
});
