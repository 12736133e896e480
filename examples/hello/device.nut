// Device code of the hello sample. Edit a server.log line below and save:
// impt watch deploys the change, restarts the device and streams its logs.

server.log("Hello from the device!");

function blink(state) {
    server.log("LED " + (state ? "on" : "off"));
    imp.wakeup(1.0, function() { blink(!state); });
}

agent.on("ping", function(data) {
    server.log("ping received");
    agent.send("pong", data);
});

blink(true);
