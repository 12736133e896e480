//! Wire vocabulary shared by the client and the simulator.

/// Device Group types: (impt name, API `type`).
pub const DG_TYPES: [(&str, &str); 7] = [
    ("development", "development_devicegroup"),
    ("pre-factory", "pre_factoryfixture_devicegroup"),
    ("pre-dut", "pre_dut_devicegroup"),
    ("pre-production", "pre_production_devicegroup"),
    ("factory", "factoryfixture_devicegroup"),
    ("dut", "dut_devicegroup"),
    ("production", "production_devicegroup"),
];

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

pub const WEBHOOK_EVENTS: [&str; 3] = ["blessing", "blinkup", "deployment"];

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
}
