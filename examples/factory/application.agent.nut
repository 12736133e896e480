// The production code of the factory sample (agent side).
server.log("Application agent started");
