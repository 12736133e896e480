// Device code. Edit a line and save: impt watch deploys the change, restarts the device
// and streams its logs.

server.log("Hello from the device!");

agent.on("ping", function(data) {
    server.log("ping received: " + data);
    agent.send("pong", data);
});

function tick(n) {
    server.log("tick " + n);
    imp.wakeup(5.0, function() { tick(n + 1); });
}

tick(1);
