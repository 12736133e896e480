//! The imp types a simulated device can be, and what each one's `hardware` object holds:
//! pins and buses named as in the imp API reference's pin-mux tables ("The Functions
//! Available From The impXXX's Pins"). What the reference does not list is marked in the
//! comments and in FIDELITY.md (hardware) as assumed.

/// One imp type's hardware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImpType {
    /// `imp.info().type`.
    pub name: &'static str,
    /// Pin names without the `pin` prefix (`"1"`, `"A"`, `"XA"`).
    pub pins: &'static [&'static str],
    /// I²C buses without the `i2c` prefix.
    pub i2c: &'static [&'static str],
    /// SPI buses without the `spi` prefix.
    pub spi: &'static [&'static str],
    /// UARTs without the `uart` prefix.
    pub uart: &'static [&'static str],
    /// `hardware.sampler` (the type has an ADC usable by the sampler).
    pub sampler: bool,
    /// `hardware.fixedfrequencydac` (the type has a DAC).
    pub ffdac: bool,
    /// `hardware.spiflash` (user SPI flash: imp003 and later).
    pub spiflash: bool,
    /// `hardware.usb` (a USB host port).
    pub usb: bool,
    /// `hardware.bluetooth` (the imp004m's and imp006's Bluetooth LE radio).
    pub bluetooth: bool,
}

/// Every imp type, in the order of the reference's list.
pub const IMP_TYPES: &[ImpType] = &[
    ImpType {
        name: "imp001",
        // pin6 is reserved for the ID chip
        pins: &["1", "2", "5", "7", "8", "9"],
        i2c: &["89", "12"],
        spi: &["257", "189"],
        uart: &["1289", "57", "12"],
        sampler: true,
        ffdac: true,
        spiflash: false,
        usb: false,
        bluetooth: false,
    },
    ImpType {
        name: "imp002",
        pins: &["1", "2", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E"],
        i2c: &["89", "12"],
        spi: &["257", "189"],
        // uartB: receive only (the reference's table)
        uart: &["1289", "57", "12", "6E", "B"],
        sampler: true,
        ffdac: true,
        spiflash: false,
        usb: false,
        bluetooth: false,
    },
    ImpType {
        name: "imp003",
        pins: &[
            "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q", "R", "S",
            "T", "U", "V", "W", "X", "Y",
        ],
        i2c: &["FG", "AB"],
        spi: &["EBCA", "LGDK"],
        uart: &["FG", "QRPW", "UVGD", "WJ", "DM"],
        sampler: true,
        ffdac: true,
        spiflash: true,
        usb: false,
        bluetooth: false,
    },
    ImpType {
        name: "imp004m",
        pins: &[
            "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q", "R", "S",
            "W",
        ],
        i2c: &["NM", "QP"],
        spi: &["AHSR", "GJKL"],
        uart: &["BCAW", "FGJH", "HJ", "Q"],
        // "none of the module's GPIO pins support imp API sampler operation"; no DAC column
        sampler: false,
        ffdac: false,
        spiflash: true,
        usb: false,
        bluetooth: true,
    },
    ImpType {
        name: "imp005",
        pins: &[
            "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q", "R", "S",
            "T", "U", "V", "W", "Y", "XA", "XB", "XC", "XD", "XE",
        ],
        // i2c0 and spi0 (buses outside the GPIO array): assumed from Electric Imp's imp005
        // code; uart0..2 are named in uart.configure's baud-rate table.
        i2c: &["JK", "0"],
        spi: &["BCAD", "0"],
        uart: &["0", "1", "2"],
        // "The imp005 also has no ADC or DAC support."
        sampler: false,
        ffdac: false,
        spiflash: true,
        usb: true,
        bluetooth: false,
    },
    ImpType {
        name: "imp006",
        pins: &[
            "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q", "R", "S",
            "T", "U", "V", "W", "XA", "XB", "XC", "XD", "XE", "XF", "XG", "XH", "XJ", "XK", "XL",
            "XM", "XN", "XP", "XQ", "XR", "XS", "XT", "XU", "XV", "XW", "YA", "YB", "YC", "YD",
            "YE", "YF", "YG", "YH", "YJ", "YK", "YL", "YM", "YN",
        ],
        i2c: &["JK", "TU", "LM"],
        spi: &["EFGH", "XABCD", "XPQRS", "XTUVW"],
        // six of the seven UARTs the reference counts (the seventh's name: not found)
        uart: &["ABCD", "PQRS", "XEFGH", "XJKLM", "YEFGH", "YJKLM"],
        sampler: true,
        ffdac: true,
        spiflash: true,
        usb: false,
        bluetooth: true,
    },
    ImpType {
        name: "impC001",
        pins: &[
            "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q", "R", "S",
            "T", "U", "V", "W", "XA", "XB", "XC", "XD", "YA", "YB", "YC", "YD", "YE", "YF", "YG",
            "YH", "YJ", "YK", "YL", "YM", "YN", "YP", "YQ", "YR", "YS", "YT", "YU",
        ],
        i2c: &["JH", "KL", "XBA", "XDC"],
        spi: &["DCAB", "PQRS", "EVMT", "YJTHU", "YRFES"],
        uart: &["DCAB", "EVMT", "NU", "HJKL", "PQSR", "XBADC", "YABCD"],
        sampler: true,
        ffdac: true,
        spiflash: true,
        usb: true,
        bluetooth: false,
    },
];

/// The type a device is when nothing says otherwise (`imp.info().type` was `imp003`
/// before devices had types).
pub const DEFAULT_IMP_TYPE: &str = "imp003";

/// The imp type called `name` (case-insensitive), if any.
pub fn imp_type(name: &str) -> Option<&'static ImpType> {
    IMP_TYPES.iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// The names of every imp type, for messages.
pub fn imp_type_names() -> Vec<&'static str> {
    IMP_TYPES.iter().map(|t| t.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bus_names_pins_of_its_type() {
        for t in IMP_TYPES {
            for bus in t.i2c.iter().chain(t.spi).chain(t.uart) {
                if bus.chars().all(|c| c.is_ascii_digit()) && t.pins.contains(&"1") {
                    // imp001/002 buses name single-character pins
                    for c in bus.chars() {
                        assert!(t.pins.contains(&c.to_string().as_str()), "{} {bus}", t.name);
                    }
                }
            }
            let mut seen = std::collections::HashSet::new();
            assert!(
                t.pins.iter().all(|p| seen.insert(*p)),
                "{} pins unique",
                t.name
            );
        }
    }

    #[test]
    fn lookup_ignores_case_and_knows_the_default() {
        assert_eq!(imp_type("IMPC001").unwrap().name, "impC001");
        assert!(imp_type(DEFAULT_IMP_TYPE).is_some());
        assert!(imp_type("imp007").is_none());
        assert_eq!(imp_type_names().len(), 7);
    }
}
