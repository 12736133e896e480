//! Electric Imp libraries for tests whose code `#require`s them, never from the network:
//! the clone in `$IMPT_LIBS` (default /work/peers/libs) read at test time when there is
//! one, else a stand-in written here from the library's documented behaviour (Electric
//! Imp's code is never part of this repository).

use std::path::Path;

/// GitHub API base for tests that must not fetch: nothing listens there.
pub const NO_GITHUB: &str = "http://127.0.0.1:9";

/// Stand-in for FactoryTools 2.2.0: its public calls, from its README.
const FACTORYTOOLS_STANDIN: &str = r#"// Test stand-in for Electric Imp's FactoryTools 2.2.0.
class FactoryTools {
    static VERSION = "2.2.0";

    function _param(key) {
        local p = imp.configparams;
        return (key in p) ? p[key] : null;
    }
    function _onAgent() { return imp.environment() == ENVIRONMENT_AGENT; }
    function _inFactory() { return FactoryTools._param("factoryfirmware") == true; }
    function _myMac() {
        if (imp.info().type != "imp001") return hardware.getdeviceid().slice(4);
        foreach (i in imp.net.info().interface) if (i.type == "wifi") return i.macaddress;
        return null;
    }
    function _fixture() {
        if (!FactoryTools._inFactory()) return false;
        if (FactoryTools._onAgent()) return FactoryTools._param("factory_fixture_url") == null;
        return FactoryTools._param("factory_imp") == FactoryTools._myMac();
    }
    function _dut() { return FactoryTools._inFactory() && !FactoryTools._fixture(); }
    function _answer(callback, test) {
        if (callback == null) return test();
        if (FactoryTools._onAgent()) callback(test());
        else imp.onidle(function() { callback(test()); });
    }
    static function isFactoryFirmware(callback = null) { return FactoryTools._answer(callback, FactoryTools._inFactory); }
    static function isFactoryFixture(callback = null) { return FactoryTools._answer(callback, FactoryTools._fixture); }
    static function isDeviceUnderTest(callback = null) { return FactoryTools._answer(callback, FactoryTools._dut); }
    static function getFactoryFixtureURL() {
        if (!FactoryTools._onAgent() || !FactoryTools._inFactory()) return null;
        local url = FactoryTools._param("factory_fixture_url");
        return url != null ? url : http.agenturl();
    }
}
"#;

/// FactoryTools' text: the clone's when it is at version 2.2.0, else the stand-in.
fn factorytools() -> String {
    let root = std::env::var("IMPT_LIBS").unwrap_or_else(|_| "/work/peers/libs".into());
    std::fs::read_to_string(Path::new(&root).join("FactoryTools/FactoryTools.lib.nut"))
        .ok()
        .filter(|t| t.contains("VERSION = \"2.2.0\""))
        .unwrap_or_else(|| FACTORYTOOLS_STANDIN.to_string())
}

/// Puts FactoryTools 2.2.0 in the user cache of `home`, as `impt build libraries` would.
pub fn seed_factorytools(home: &Path) {
    let dir = home.join(".cache/impt/libraries/FactoryTools/2.2.0");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("FactoryTools.lib.nut"), factorytools()).unwrap();
}
