// The production code of the factory sample: what a blessed device runs (deploy it to the
// production target, the pre-production Device Group).
server.log("Application started on " + hardware.getdeviceid());
