//! `impt sim`: a local impCentral API v5 with virtual devices.
