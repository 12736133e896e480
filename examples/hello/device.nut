// Device side of the hello example: reports a reading to the agent every few seconds.
server.log("Hello World, from your Device!");

local count = 0;
function tick() {
    count++;
    agent.send("reading", { "count": count, "mac": imp.getmacaddress() });
    imp.wakeup(5, tick);
}
tick();
