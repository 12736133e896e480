//! Wire vocabulary shared by the client and the simulator: Device Group types, their
//! predicates and impt names, webhook events and content types, log types.

/// API `type` of a development Device Group.
pub const DEVELOPMENT: &str = "development_devicegroup";
/// API `type` of a pre-factory (pre-fixture) Device Group.
pub const PRE_FACTORY: &str = "pre_factoryfixture_devicegroup";
/// API `type` of a pre-DUT Device Group.
pub const PRE_DUT: &str = "pre_dut_devicegroup";
/// API `type` of a pre-production Device Group.
pub const PRE_PRODUCTION: &str = "pre_production_devicegroup";
/// API `type` of a factory (fixture) Device Group.
pub const FACTORY: &str = "factoryfixture_devicegroup";
/// API `type` of a DUT Device Group.
pub const DUT: &str = "dut_devicegroup";
/// API `type` of a production Device Group.
pub const PRODUCTION: &str = "production_devicegroup";

/// Device Group types: (impt name, API `type`).
pub const DG_TYPES: [(&str, &str); 7] = [
    ("development", DEVELOPMENT),
    ("pre-factory", PRE_FACTORY),
    ("pre-dut", PRE_DUT),
    ("pre-production", PRE_PRODUCTION),
    ("factory", FACTORY),
    ("dut", DUT),
    ("production", PRODUCTION),
];

/// Whether `t` is one of the seven Device Group API types.
pub fn is_dg_type(t: &str) -> bool {
    DG_TYPES.iter().any(|(_, api)| *api == t)
}

/// Production and pre-production groups (blessing, `load_code_after_blessing`, region).
pub fn is_production_type(t: &str) -> bool {
    t == PRODUCTION || t == PRE_PRODUCTION
}

/// Factory and pre-factory groups (the ones with production and DUT targets).
pub fn is_fixture_type(t: &str) -> bool {
    t == FACTORY || t == PRE_FACTORY
}

/// DUT and pre-DUT groups.
pub fn is_dut_type(t: &str) -> bool {
    t == DUT || t == PRE_DUT
}

/// The expected (production_target, dut_target) types of a fixture group type.
pub fn target_types(t: &str) -> Option<(&'static str, &'static str)> {
    match t {
        FACTORY => Some((PRODUCTION, DUT)),
        PRE_FACTORY => Some((PRE_PRODUCTION, PRE_DUT)),
        _ => None,
    }
}

/// `log_type` of log entries from a device in a group of this type.
pub fn log_type_for(t: Option<&str>) -> &'static str {
    match t {
        None | Some(DEVELOPMENT) => "development",
        _ => "production",
    }
}

/// impt names of the Device Group types, in the order of the original's choices list.
pub const DG_TYPE_NAMES: [&str; 7] = [
    "development",
    "pre-factory",
    "pre-dut",
    "pre-production",
    "factory",
    "dut",
    "production",
];

/// `development` → `development_devicegroup`.
pub fn dg_api_type(name: &str) -> Option<&'static str> {
    DG_TYPES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// `development_devicegroup` → `development`; anything else → `unknown`.
pub fn dg_type_name(api_type: &str) -> &'static str {
    DG_TYPES
        .iter()
        .find(|(_, t)| *t == api_type)
        .map(|(n, _)| *n)
        .unwrap_or("unknown")
}

/// Webhook content types: (impt name, MIME type).
pub const WEBHOOK_MIME: [(&str, &str); 2] = [
    ("json", "application/json"),
    ("urlencoded", "application/x-www-form-urlencoded"),
];

/// Webhook events.
pub const WEBHOOK_EVENTS: [&str; 3] = ["blessing", "blinkup", "deployment"];

/// The MIME types a webhook can send.
pub const WEBHOOK_CONTENT_TYPES: [&str; 2] = [WEBHOOK_MIME[0].1, WEBHOOK_MIME[1].1];

pub fn webhook_mime_name(mime: &str) -> &'static str {
    WEBHOOK_MIME
        .iter()
        .find(|(_, m)| *m == mime)
        .map(|(n, _)| *n)
        .unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn dg_types_round_trip() {
        for n in DG_TYPE_NAMES {
            assert_eq!(dg_type_name(dg_api_type(n).unwrap()), n);
        }
        assert_eq!(dg_type_name("x"), "unknown");
    }

    #[test]
    fn predicates_split_the_types() {
        for (_, t) in DG_TYPES {
            assert!(is_dg_type(t));
            let kinds = [is_production_type(t), is_fixture_type(t), is_dut_type(t)];
            assert!(kinds.iter().filter(|k| **k).count() <= 1, "{t}");
            assert_eq!(target_types(t).is_some(), is_fixture_type(t));
        }
        assert!(!is_dg_type("development"));
        assert_eq!(target_types(PRE_FACTORY), Some((PRE_PRODUCTION, PRE_DUT)));
        assert_eq!(log_type_for(Some(DUT)), "production");
        assert_eq!(log_type_for(None), "development");
    }
}
