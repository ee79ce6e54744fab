//! `pishkhan devices`: what is attached, what answers, and a test capture.
//!
//! Serial ports are listed with their USB identity; only ports behind a
//! known USB-serial bridge (and virtual modules) are probed, so that the
//! station never writes to a modem or a GPS receiver by mistake.

use std::path::Path;
use std::time::Duration;

use pishkhan_scanner::{CancelToken, CaptureRequest, Finger, Impression, Scanner};
use serde::Serialize;

/// Everything found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    pub serial_ports: Vec<SerialEntry>,
    pub sbi_services: Vec<SbiEntry>,
    pub cameras: Vec<CameraEntry>,
}

/// One camera, its streaming modes and the one the station would use.
#[derive(Debug, Clone, Serialize)]
pub struct CameraEntry {
    /// What to write as `[devices] camera` to use it.
    pub setting: String,
    pub name: String,
    pub description: String,
    /// Every mode offered, e.g. `1280×720 MJPG at 30 fps`.
    pub formats: Vec<String>,
    /// The mode the station chooses (≥ 1280×720 at ≥ 25 fps where
    /// offered).
    pub chosen: Option<String>,
}

/// The cameras the platform lists, then the built-in synthetic one; an
/// error of the platform's camera query is listed in place of cameras.
pub fn cameras() -> Vec<CameraEntry> {
    let entry = |info: pishkhan_camera::CameraInfo| CameraEntry {
        setting: match info.source {
            pishkhan_camera::Source::Device(i) => i.to_string(),
            pishkhan_camera::Source::Synthetic => "synthetic".into(),
            pishkhan_camera::Source::SyntheticSeated => "synthetic-seated".into(),
        },
        chosen: pishkhan_camera::choose_format(&info.formats).map(|f| f.to_string()),
        formats: info.formats.iter().map(ToString::to_string).collect(),
        name: info.name,
        description: info.description,
    };
    let mut out: Vec<CameraEntry> = match pishkhan_camera::list() {
        Ok(list) => list.into_iter().map(entry).collect(),
        Err(e) => vec![CameraEntry {
            setting: String::new(),
            name: "camera query failed".into(),
            description: e.to_string(),
            formats: Vec::new(),
            chosen: None,
        }],
    };
    out.push(entry(pishkhan_camera::synthetic_info()));
    out
}

/// One serial port, and the ZhianTec module on it if one answered.
#[derive(Debug, Clone, Serialize)]
pub struct SerialEntry {
    pub path: String,
    pub kind: String,
    pub vid: Option<String>,
    pub pid: Option<String>,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    pub serial_number: Option<String>,
    pub bridge: Option<String>,
    /// A virtual module started by this command.
    #[serde(rename = "virtual")]
    pub is_virtual: bool,
    /// Whether the port was probed for a module.
    pub probed: bool,
    pub module: Option<ModuleEntry>,
    pub error: Option<String>,
}

/// What a ZhianTec module says about itself.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleEntry {
    pub system_id: String,
    pub address: String,
    pub library_size: u16,
    pub security_level: u16,
    pub packet_size: usize,
    pub baud: u32,
}

/// One SBI service on loopback.
#[derive(Debug, Clone, Serialize)]
pub struct SbiEntry {
    pub port: u16,
    pub device_id: String,
    pub status: String,
    pub spec_version: String,
    pub device_sub_ids: Vec<u8>,
    #[serde(rename = "virtual")]
    pub is_virtual: bool,
}

/// Asks the ZhianTec module at `path` who it is.
pub fn probe_zfm(path: &str, baud: u32) -> Result<ModuleEntry, String> {
    let scanner = pishkhan_zfm::open(path, baud).map_err(|e| e.to_string())?;
    let p = scanner.sensor().parameters();
    Ok(ModuleEntry {
        system_id: format!("{:#06x}", p.system_id),
        address: format!("{:#010x}", p.address),
        library_size: p.library_size,
        security_level: p.security_level,
        packet_size: p.packet_size.bytes(),
        baud: p.baud(),
    })
}

/// Lists serial ports (plus `virtual_ports`), probing bridges and virtual
/// modules for a ZhianTec module.
pub fn serial_ports(virtual_ports: &[String], baud: u32) -> Vec<SerialEntry> {
    let mut entries: Vec<SerialEntry> = pishkhan_zfm::list_ports()
        .into_iter()
        .map(|p| {
            let probe = p.bridge.is_some();
            let (module, error) = if probe {
                match probe_zfm(&p.path, baud) {
                    Ok(m) => (Some(m), None),
                    Err(e) => (None, Some(e)),
                }
            } else {
                (None, None)
            };
            SerialEntry {
                kind: format!("{:?}", p.kind).to_lowercase(),
                vid: p.vid.map(|v| format!("{v:04x}")),
                pid: p.pid.map(|v| format!("{v:04x}")),
                manufacturer: p.manufacturer,
                product: p.product,
                serial_number: p.serial_number,
                bridge: p.bridge.map(str::to_owned),
                path: p.path,
                is_virtual: false,
                probed: probe,
                module,
                error,
            }
        })
        .collect();
    for path in virtual_ports {
        let (module, error) = match probe_zfm(path, baud) {
            Ok(m) => (Some(m), None),
            Err(e) => (None, Some(e)),
        };
        entries.push(SerialEntry {
            path: path.clone(),
            kind: "pseudo-terminal".into(),
            vid: None,
            pid: None,
            manufacturer: None,
            product: Some("Pishkhan virtual ZhianTec module".into()),
            serial_number: None,
            bridge: None,
            is_virtual: true,
            probed: true,
            module,
            error,
        });
    }
    entries
}

/// What a test capture produced.
#[derive(Debug, Clone, Serialize)]
pub struct TestCapture {
    pub device: String,
    pub impression: String,
    pub fingers: usize,
    pub width: u32,
    pub height: u32,
    pub device_quality: Option<u8>,
    pub file: String,
}

/// Takes one impression with `scanner` and saves the first finger as PNG.
pub fn test_capture(
    scanner: &mut dyn Scanner,
    png: &Path,
    timeout: Duration,
) -> Result<TestCapture, String> {
    let impression = if scanner.info().capabilities.four_finger_slap {
        Impression::RightSlap
    } else {
        Impression::Finger(Finger::RightIndex)
    };
    let request = CaptureRequest {
        impression,
        ..CaptureRequest::finger(Finger::RightIndex, timeout)
    };
    let capture = scanner
        .capture(&request, &CancelToken::new(), &mut |_| {})
        .map_err(|e| e.to_string())?;
    let first = capture
        .fingers
        .first()
        .ok_or_else(|| "the scanner returned no image".to_owned())?;
    let image = image::GrayImage::from_raw(first.width, first.height, first.pixels.clone())
        .ok_or_else(|| "the image has the wrong number of pixels".to_owned())?;
    image
        .save(png)
        .map_err(|e| format!("cannot write {}: {e}", png.display()))?;
    Ok(TestCapture {
        device: scanner.info().name.clone(),
        impression: format!("{impression:?}"),
        fingers: capture.fingers.len(),
        width: first.width,
        height: first.height,
        device_quality: first.device_quality,
        file: png.display().to_string(),
    })
}

/// SBI services answering on 127.0.0.1 in the SBI port range; `virtual_port`
/// marks the one this command started.
pub fn sbi_services(virtual_port: Option<u16>) -> Vec<SbiEntry> {
    let localhost = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    pishkhan_sbi::discover(
        localhost,
        crate::devices::SBI_PORTS,
        Duration::from_millis(500),
    )
    .into_iter()
    .flat_map(|found| {
        let port = found.addr.port();
        let version = format!("{:?}", found.version);
        found.devices.into_iter().map(move |d| SbiEntry {
            port,
            device_id: d.device_id,
            status: d.device_status,
            spec_version: if d.spec_version.is_empty() {
                version.clone()
            } else {
                d.spec_version.join(", ")
            },
            device_sub_ids: d
                .device_sub_id
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
            is_virtual: Some(port) == virtual_port,
        })
    })
    .collect()
}
