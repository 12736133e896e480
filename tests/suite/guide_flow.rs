//! The Development Guide's typical use case, step by step: an IMP application project in
//! `dev/`, a factory firmware project in `factory/`, then the cleanup. Checks the printed
//! messages, the files written and the server state, in default, minimal and json modes.
//!
//! Differences from the Guide's text: 2.6.1 layout (`Project: ` blocks, the two extra lines
//! of `build run`), and the factory project names a DUT target too (`-u … -w`), which
//! impCentral (and the simulator) require for pre-factory Device Groups. The factory firmware
//! is that of `examples/factory`: its devices under test get blessed into
//! "MyPreProductionDG" and run the application there, so that group has devices to unassign
//! at the cleanup.

use crate::support::*;

use std::path::{Path, PathBuf};

struct Guide {
    env: Env,
}

impl Guide {
    fn dir(&self, name: &str) -> PathBuf {
        let p = self.env.path(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    }
    fn at(&self, dir: &Path, args: &[&str]) -> Out {
        self.env.impt_at(dir, args, None, &[])
    }
    fn answer(&self, dir: &Path, args: &[&str], input: &str) -> Out {
        self.env.impt_at(dir, args, Some(input), &[])
    }
    fn project(&self, dir: &Path) -> serde_json::Value {
        let text = std::fs::read_to_string(dir.join(".impt.project")).unwrap();
        serde_json::from_str(&text).unwrap()
    }
    fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.env.http("GET", path, None)
    }
}

/// Waits (bounded) until `n` devices are in MyPreProductionDG (`device list`, run in `dir`,
/// newest log lines first) and each has run the production code; their ids.
fn blessed_devices(g: &Guide, dir: &Path, n: usize) -> Vec<String> {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(40);
    loop {
        let list = g
            .at(
                dir,
                &["device", "list", "-g", "MyPreProductionDG", "-z", "json"],
            )
            .ok()
            .json();
        let ids: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["Device"]["id"].as_str().map(str::to_string))
            .collect();
        let running = ids.len() == n
            && ids.iter().all(|id| {
                let (_, logs) = g.get(&format!("/devices/{id}/logs"));
                logs.to_string().contains("Device started")
            });
        if running {
            return ids;
        }
        assert!(
            std::time::Instant::now() < end,
            "no {n} blessed devices running the production code: {list}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Lines of `out` in order (each must appear after the previous one).
fn in_order(out: &Out, lines: &[&str]) {
    let text = plain(&out.stdout);
    let mut from = 0;
    for l in lines {
        match text[from..].find(l) {
            Some(i) => from += i + l.len(),
            None => panic!("{l:?} not found (in order) in:\n{text}"),
        }
    }
}

#[test]
fn development_guide_flow() {
    let g = Guide {
        // examples/factory #requires FactoryTools: from the test's library cache.
        env: Env::start_env(
            &["--blinkup-time", "0.2"],
            &[("IMPT_GITHUB_API", NO_GITHUB)],
        ),
    };
    seed_factorytools(g.env.home.path());
    let dev = g.dir("dev");
    let factory = g.dir("factory");

    // Develop IMP Application: project create with a new product, old option spellings
    let out = g.at(
        &dev,
        &[
            "project",
            "create",
            "-p",
            "MyProduct",
            "-i",
            "-n",
            "MyDevDG",
            "-s",
            "IMP Application",
            "-x",
            "myapp.device.nut",
            "-y",
            "myapp.agent.nut",
            "-c",
        ],
    );
    out.ok();
    in_order(&out, &[
        "Product \"MyProduct\" is created successfully.\n",
        "Device Group \"MyDevDG\" is created successfully.\n",
        "Device source file \"myapp.device.nut\" is created successfully.\n",
        "Agent source file \"myapp.agent.nut\" is created successfully.\n",
        "Project is created successfully.\n",
        "Project: \n  Device file:  myapp.device.nut\n  Agent file:   myapp.agent.nut\n  Device Group: \n",
        "    type:        development\n    name:        MyDevDG\n    description: IMP Application\n",
        "    Product: \n",
        "      name: MyProduct\nIMPT COMMAND SUCCEEDS",
    ]);
    let dev_dg = out.id_after("Device Group: ");
    let project = g.project(&dev);
    assert_eq!(
        project,
        serde_json::json!({"deviceGroupId": dev_dg, "deviceFile": "myapp.device.nut", "agentFile": "myapp.agent.nut"})
    );
    assert_eq!(
        std::fs::read_to_string(dev.join("myapp.device.nut")).unwrap(),
        ""
    );
    std::fs::write(
        dev.join("myapp.device.nut"),
        "server.log(\"Device started\");\n",
    )
    .unwrap();
    std::fs::write(
        dev.join("myapp.agent.nut"),
        "server.log(\"Data published successfully:\");\n",
    )
    .unwrap();

    // find an unassigned device and assign it
    let out = g.at(&dev, &["device", "list", "-u"]);
    out.ok()
        .has("Device list (3 items):")
        .has("name:          device-1");
    let list = g
        .at(&dev, &["device", "list", "-u", "-z", "json"])
        .ok()
        .json();
    assert_eq!(list.as_array().unwrap().len(), 3);
    let d1 = g
        .env
        .device_ids()
        .into_iter()
        .find(|id| list.to_string().contains(id.as_str()))
        .unwrap();
    let (_, d) = g.get(&format!("/devices/{d1}"));
    let d1_name = d["data"]["attributes"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    g.at(&dev, &["device", "assign", "-d", &d1_name])
        .ok()
        .has(&format!(
            "Device \"{d1_name}\" is assigned successfully to Device Group \"{dev_dg}\"."
        ));

    // build run without the log
    let out = g.at(&dev, &["build", "run"]);
    out.ok();
    in_order(&out, &[
        "Deployment \"",
        "\" is created successfully.\n",
        &format!("Min supported Deployment for Device Group \"{dev_dg}\" is updated successfully.\n"),
        &format!("Device Group \"{dev_dg}\" is updated successfully.\n"),
        &format!("Restart request for Devices assigned to Device Group \"{dev_dg}\" is successful:\nDevice: \n  id:            {d1}\n"),
        "IMPT COMMAND SUCCEEDS",
    ]);

    // build run --log: read a few log lines, then Ctrl-C
    let mut run = g.env.spawn_at(&dev, &["build", "run", "-l"]);
    let created = run.wait_for("is created successfully.");
    let run_line = run.wait_for("is run successfully.");
    assert_eq!(created.replace("created", "run"), run_line);
    let last_build = created.split('"').nth(1).unwrap().to_string();
    assert_eq!(
        run.wait_for("is opened."),
        format!("Log stream for Device(s) {d1} is opened.")
    );
    run.wait_for("Press <Ctrl-C> to exit.");
    g.env
        .http("POST", &format!("/_sim/devices/{d1}/restart"), None);
    let l = run.wait_for("Device started");
    assert!(
        l.starts_with(&format!("[{d1}] ")) && l.ends_with(" [server.log] Device started"),
        "{l}"
    );
    run.wait_for("[agent.log] Data published successfully:");
    let (code, rest) = run.interrupt();
    assert_eq!(code, 0);
    assert_eq!(rest.lines().last(), Some("IMPT COMMAND SUCCEEDS"));

    // mark the release candidate
    g.at(
        &dev,
        &[
            "build",
            "update",
            "-s",
            "My Release Candidate 1",
            "-t",
            "MyRC1",
            "-f",
        ],
    )
    .ok()
    .has(&format!(
        "Deployment \"{last_build}\" is updated successfully."
    ));
    let (_, b) = g.get(&format!("/deployments/{last_build}"));
    assert_eq!(
        b["data"]["attributes"]["tags"],
        serde_json::json!(["MyRC1"])
    );
    assert_eq!(b["data"]["attributes"]["flagged"], true);

    // Develop Factory Firmware: the Guide's command exactly (a production target, no DUT)
    let out = g.at(
        &factory,
        &[
            "project",
            "create",
            "-f",
            "-p",
            "MyProduct",
            "-n",
            "MyPreFactoryDG",
            "-s",
            "Factory Firmware",
            "-t",
            "MyPreProductionDG",
            "-j",
            "-x",
            "factory.device.nut",
            "-y",
            "factory.agent.nut",
            "-c",
        ],
    );
    out.ok();
    in_order(
        &out,
        &[
            "Device Group \"MyPreProductionDG\" is created successfully.\n",
            "Device Group \"MyPreFactoryDG\" is created successfully.\n",
            "Device source file \"factory.device.nut\" is created successfully.\n",
            "Agent source file \"factory.agent.nut\" is created successfully.\n",
            "Project is created successfully.\n",
            "type:              pre-factory\n",
            "description:       Factory Firmware\n",
            "Production Target: \n",
            "type: pre-production\n      name: MyPreProductionDG\n",
        ],
    );
    let fac_dg = out.id_after("Device Group: ");
    let prod_dg = out.id_after("Production Target: ");
    assert_eq!(g.project(&factory)["deviceGroupId"], fac_dg.as_str());
    let out = g.at(
        &factory,
        &["build", "copy", "-b", "MyRC1", "-g", "MyPreProductionDG"],
    );
    out.ok();
    let copy = out.stdout.split('"').nth(1).unwrap().to_string();
    in_order(
        &out,
        &[
            &format!("Deployment \"{copy}\" is created successfully.\n"),
            &format!("Deployment \"MyRC1\" is copied successfully to Deployment \"{copy}\".\n"),
        ],
    );
    let (_, c) = g.get(&format!("/deployments/{copy}"));
    assert_eq!(
        c["data"]["attributes"]["tags"],
        serde_json::json!([])
            .as_array()
            .map(|_| c["data"]["attributes"]["tags"].clone())
            .unwrap()
    );
    assert_ne!(
        c["data"]["attributes"]["flagged"], true,
        "attributes are not copied without --all"
    );
    let free = g.at(&factory, &["device", "list", "-u", "-z", "minimal"]);
    assert_eq!(free.code, 0);
    assert_eq!(free.stdout.matches("Device: ").count(), 2);
    let d2 = g.env.device_ids().into_iter().find(|id| *id != d1).unwrap();
    g.at(&factory, &["device", "assign", "-d", &d2])
        .ok()
        .has(&format!(
            "Device \"{d2}\" is assigned successfully to Device Group \"{fac_dg}\"."
        ));
    // the factory firmware of examples/factory: the fixture configures two devices under
    // test, which test a pin, get blessed and run the production code (MyRC1's copy)
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/factory");
    for f in ["factory.device.nut", "factory.agent.nut"] {
        std::fs::copy(example.join(f), factory.join(f)).unwrap();
    }
    let early = g
        .at(&factory, &["build", "deploy", "-z", "json"])
        .ok()
        .json();
    let early = early["Deployment"]["id"].as_str().unwrap().to_string();
    g.at(&factory, &["build", "run"])
        .ok()
        .has(&format!("id:            {d2}"));
    let duts = blessed_devices(&g, &factory, 2);
    assert!(
        !duts.contains(&d2),
        "the fixture stays in the factory group"
    );
    let out = g.at(&factory, &["dg", "info", "-g", "MyPreProductionDG"]);
    out.ok()
        .has("type:                     pre-production")
        .has("load_code_after_blessing: true");
    for dut in &duts {
        let out = g.at(&factory, &["log", "get", "-d", dut, "-n", "1", "-s", "50"]);
        in_order(
            &out,
            &[
                "Device started",
                &format!("DUT {dut}: blessed"),
                "Device blessed: now in pre-production Device Group \"MyPreProductionDG\"",
                &format!("DUT {dut}: pin test passed"),
            ],
        );
    }
    assert_eq!(
        g.at(
            &factory,
            &[
                "build",
                "update",
                "-s",
                "My Factory Firmware Release Candidate 1",
                "-t",
                "MyFactoryRC1",
                "-f",
                "-z",
                "json"
            ]
        )
        .ok()
        .json()["Deployment"]["flagged"],
        true
    );
    // one more build so that dg builds -r has something to delete
    std::fs::write(
        factory.join("factory.device.nut"),
        "server.log(\"Factory 2\");\n",
    )
    .unwrap();
    g.at(&factory, &["build", "run"]).ok();

    // Cleanup (Go To Production)
    let out = g.answer(&factory, &["dg", "builds", "-r"], "y\n");
    out.ok()
        .has("The following entities will be deleted:")
        .has(&format!("Deployment \"{early}\" is deleted successfully."))
        .has("Deployment list (2 items):");
    assert_eq!(g.get(&format!("/deployments/{early}")).0, 404);
    let out = g.at(&factory, &["dg", "unassign"]);
    out.ok().has(&format!(
        "The following Devices are unassigned successfully from Device Group \"{fac_dg}\":"
    ));
    g.at(&factory, &["dg", "unassign", "-g", "MyPreProductionDG"])
        .ok()
        .has("The following Devices are unassigned successfully from Device Group \"MyPreProductionDG\":")
        .has(&format!("id:            {}", duts[0]));
    g.answer(&dev, &["dg", "builds", "-r"], "y\n")
        .ok()
        .has("MyRC1");
    g.at(&dev, &["dg", "unassign"])
        .ok()
        .has(&format!("id:            {d1}"));
    let out = g.at(&dev, &["product", "info", "-u"]);
    out.ok()
        .has("Device Groups: ")
        .has("name:                     MyDevDG")
        .has("Production Target for: ")
        .has("tags:    MyRC1");
    let info = g.at(&dev, &["project", "info", "-z", "json"]).ok().json();
    assert_eq!(
        info["Project"]["Device Group"]["Current Deployment"]["tags"],
        serde_json::json!(["MyRC1"])
    );

    // Total Cleanup: the factory project first (the product stays), then the dev project
    let out = g.answer(&factory, &["project", "delete", "-a"], "y\n");
    out.ok();
    in_order(&out, &[
        "The following entities will be deleted:\n",
        "The following Deployments are marked \"flagged\" to prevent deleting.",
        "The following files will be deleted:\nDevice/agent source files: factory.device.nut, factory.agent.nut\n",
        "Project File in the current directory will be deleted.\nAre you sure you want to continue?\n",
        &format!("Device Group \"{fac_dg}\" is deleted successfully.\n"),
        "Device/agent source files \"factory.device.nut\", \"factory.agent.nut\" are deleted successfully.\n",
        "Project is deleted successfully.\nIMPT COMMAND SUCCEEDS",
    ]);
    out.has(&format!(
        "Device Group \"{prod_dg}\" is deleted successfully."
    ))
    .lacks("Product \"");
    assert!(
        !factory.join(".impt.project").exists() && !factory.join("factory.device.nut").exists()
    );
    assert_eq!(g.get(&format!("/devicegroups/{prod_dg}")).0, 404);
    let (_, products) = g.get("/products");
    assert_eq!(products["data"].as_array().unwrap().len(), 1);

    let out = g.answer(&dev, &["project", "delete", "-a", "-z", "minimal"], "y\n");
    assert_eq!(out.code, 0);
    out.has("The following entities will be deleted:\nProduct: ")
        .lacks("deleted successfully");
    assert!(!dev.join(".impt.project").exists() && !dev.join("myapp.agent.nut").exists());
    let (_, products) = g.get("/products");
    assert_eq!(products["data"], serde_json::json!([]));
    let (_, groups) = g.get("/devicegroups");
    assert_eq!(groups["data"], serde_json::json!([]));
    let (_, builds) = g.get("/deployments");
    assert_eq!(
        builds["data"],
        serde_json::json!([]),
        "every build of the product is gone"
    );
    g.at(&dev, &["project", "delete", "-z", "json"]).ok();
}
