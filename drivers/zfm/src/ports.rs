//! Serial ports a module may be attached to.

/// One serial port of this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    /// The path to open, e.g. `/dev/ttyUSB0`.
    pub path: String,
    /// How the port is attached.
    pub kind: PortKind,
    /// USB vendor id, for USB ports.
    pub vid: Option<u16>,
    /// USB product id, for USB ports.
    pub pid: Option<u16>,
    /// USB manufacturer string.
    pub manufacturer: Option<String>,
    /// USB product string.
    pub product: Option<String>,
    /// USB serial number.
    pub serial_number: Option<String>,
    /// The USB-serial bridge chip, when the VID:PID is a known one.
    pub bridge: Option<&'static str>,
}

/// How a port is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortKind {
    Usb,
    Pci,
    Bluetooth,
    Unknown,
}

/// Known USB-serial bridges used with fingerprint modules, by VID:PID.
const BRIDGES: [(u16, u16, &str); 5] = [
    (0x1a86, 0x7523, "CH340"),
    (0x10c4, 0xea60, "CP210x"),
    (0x0403, 0x6001, "FTDI FT232R"),
    (0x0403, 0x6015, "FTDI FT231X"),
    (0x067b, 0x2303, "PL2303"),
];

/// The bridge chip with USB ids `vid:pid`, if it is a known one.
pub fn bridge_name(vid: u16, pid: u16) -> Option<&'static str> {
    BRIDGES
        .iter()
        .find(|(v, p, _)| *v == vid && *p == pid)
        .map(|(_, _, name)| *name)
}

impl PortInfo {
    /// Describes a port reported by `serialport`.
    pub fn from_serialport(port: serialport::SerialPortInfo) -> Self {
        let mut info = PortInfo {
            path: port.port_name,
            kind: PortKind::Unknown,
            vid: None,
            pid: None,
            manufacturer: None,
            product: None,
            serial_number: None,
            bridge: None,
        };
        match port.port_type {
            serialport::SerialPortType::UsbPort(usb) => {
                info.kind = PortKind::Usb;
                info.vid = Some(usb.vid);
                info.pid = Some(usb.pid);
                info.bridge = bridge_name(usb.vid, usb.pid);
                info.manufacturer = usb.manufacturer;
                info.product = usb.product;
                info.serial_number = usb.serial_number;
            }
            serialport::SerialPortType::PciPort => info.kind = PortKind::Pci,
            serialport::SerialPortType::BluetoothPort => info.kind = PortKind::Bluetooth,
            serialport::SerialPortType::Unknown => {}
        }
        info
    }
}

/// The serial ports of this machine (empty when they cannot be listed).
pub fn list_ports() -> Vec<PortInfo> {
    match serialport::available_ports() {
        Ok(ports) => ports.into_iter().map(PortInfo::from_serialport).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot list serial ports");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_bridges_are_named() {
        assert_eq!(bridge_name(0x1a86, 0x7523), Some("CH340"));
        assert_eq!(bridge_name(0x10c4, 0xea60), Some("CP210x"));
        assert_eq!(bridge_name(0x0403, 0x6001), Some("FTDI FT232R"));
        assert_eq!(bridge_name(0x0403, 0x6015), Some("FTDI FT231X"));
        assert_eq!(bridge_name(0x067b, 0x2303), Some("PL2303"));
        assert_eq!(bridge_name(0x0403, 0x6010), None);
    }

    #[test]
    fn usb_ports_carry_their_descriptors() {
        let info = PortInfo::from_serialport(serialport::SerialPortInfo {
            port_name: "/dev/ttyUSB0".into(),
            port_type: serialport::SerialPortType::UsbPort(serialport::UsbPortInfo {
                vid: 0x10c4,
                pid: 0xea60,
                serial_number: Some("0001".into()),
                manufacturer: Some("Silicon Labs".into()),
                product: Some("CP2102 USB to UART Bridge Controller".into()),
            }),
        });
        assert_eq!(info.path, "/dev/ttyUSB0");
        assert_eq!(info.kind, PortKind::Usb);
        assert_eq!((info.vid, info.pid), (Some(0x10c4), Some(0xea60)));
        assert_eq!(info.bridge, Some("CP210x"));
        assert_eq!(info.serial_number.as_deref(), Some("0001"));
        assert_eq!(info.manufacturer.as_deref(), Some("Silicon Labs"));

        let pci = PortInfo::from_serialport(serialport::SerialPortInfo {
            port_name: "/dev/ttyS0".into(),
            port_type: serialport::SerialPortType::PciPort,
        });
        assert_eq!(pci.kind, PortKind::Pci);
        assert_eq!(pci.bridge, None);
        assert_eq!(pci.vid, None);
    }

    #[test]
    fn listing_ports_does_not_fail() {
        // The machine may have no ports at all; every listed one has a path.
        assert!(list_ports().iter().all(|p| !p.path.is_empty()));
    }
}
