//! The real driver against the virtual module over a real pseudo-terminal.
#![cfg(unix)]

use std::time::Duration;

use pishkhan_scanner::{
    CancelToken, Capture, CaptureRequest, Condition, Finger, FingerSensor, ScanError, ScanEvent,
    Scanner, SyntheticFinger, Transport, ridge_pattern,
};
use pishkhan_zfm::proto::{self, PacketSize};
use pishkhan_zfm::{Config, Knobs, VirtualModule, ZfmScanner, ZfmSensor, open, open_with};

const SEED: u64 = 0x005E_ED1D;

fn start(knobs: Knobs) -> VirtualModule {
    VirtualModule::start(SEED, knobs).expect("a pty pair")
}

fn open_module(module: &VirtualModule) -> ZfmScanner {
    open(&module.path(), 57_600).expect("the virtual module answers")
}

/// What the driver must deliver for the `n`th finger the module images:
/// the ridge pattern, quantised to 4 bits and expanded again.
fn expected_pixels(n: usize) -> Vec<u8> {
    let finger = Finger::ALL[n % Finger::ALL.len()];
    let grey = ridge_pattern(finger, SEED, proto::IMAGE_WIDTH, proto::IMAGE_HEIGHT);
    proto::unpack_4bit(&proto::pack_4bit(&grey))
}

fn capture(
    scanner: &mut ZfmScanner,
    finger: Finger,
    timeout: Duration,
) -> Result<Capture, ScanError> {
    scanner.capture(
        &CaptureRequest::finger(finger, timeout),
        &CancelToken::new(),
        &mut |_| {},
    )
}

const LONG: Duration = Duration::from_secs(10);

#[test]
fn clean_captures_through_polling() {
    let module = start(Knobs::default());
    let mut scanner = open_module(&module);
    let info = scanner.info().clone();
    assert_eq!(
        info.transport,
        Transport::Serial {
            port: module.path()
        }
    );
    assert!(info.capabilities.single_flat);
    assert_eq!((info.image_width, info.image_height), (256, 288));
    assert_eq!(info.resolution_ppi, 500);
    let params = *scanner.sensor().parameters();
    assert_eq!(params.system_id, 9);
    assert_eq!(params.packet_size, PacketSize::Bytes128);
    assert_eq!(params.baud(), 57_600);

    let mut events = Vec::new();
    let first = scanner
        .capture(
            &CaptureRequest::finger(Finger::RightThumb, LONG),
            &CancelToken::new(),
            &mut |e| events.push(e),
        )
        .expect("a clean capture");
    assert_eq!(events.len(), 4, "{events:?}");
    assert_eq!(events[0], ScanEvent::WaitingForFinger);
    assert_eq!(events[1], ScanEvent::FingerOn);
    assert_eq!(events[2], ScanEvent::Captured(first.clone()));
    assert_eq!(events[3], ScanEvent::FingerOff);
    let image = first.image(Finger::RightThumb).expect("the thumb");
    assert_eq!(
        (image.width, image.height, image.resolution_ppi),
        (256, 288, 500)
    );
    assert_eq!(image.device_quality, None);
    assert_eq!(image.pixels, expected_pixels(0));

    // The applicant places the next finger in Finger::ALL order.
    let second = capture(&mut scanner, Finger::RightIndex, LONG).expect("a second capture");
    assert_eq!(second.fingers[0].finger, Finger::RightIndex);
    assert_eq!(second.fingers[0].pixels, expected_pixels(1));
    assert_eq!(module.handle().images_taken(), 2);
}

#[test]
fn constructor_over_the_handed_out_host_port() {
    let mut module = start(Knobs::default());
    let mut port = module.take_host_port().expect("the host end");
    serialport::SerialPort::set_timeout(&mut port, Duration::from_millis(20)).expect("timeout");
    let mut sensor =
        ZfmSensor::connect(port, "pty", Config::default()).expect("handshake over the pty pair");
    // The first GenImg starts the placement; poll until the finger is on.
    let mut polls = 0;
    while !sensor.take_image().expect("GenImg") {
        polls += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(polls >= 1, "the first GenImg finds an empty glass");
    let image = sensor.upload_image(Finger::LeftThumb).expect("UpImage");
    assert_eq!(image.pixels, expected_pixels(0));
}

#[test]
fn smaller_data_packets_still_give_the_image() {
    let module = start(Knobs::default());
    let mut scanner = open_module(&module);
    scanner
        .sensor_mut()
        .set_packet_size(PacketSize::Bytes32)
        .expect("SetSysPara 6");
    let read_back = scanner.sensor_mut().read_parameters().expect("ReadSysPara");
    assert_eq!(read_back.packet_size, PacketSize::Bytes32);
    let packets_before = module.handle().packets_sent();
    let c = capture(&mut scanner, Finger::LeftIndex, LONG).expect("capture");
    assert_eq!(c.fingers[0].pixels, expected_pixels(0));
    // 36 864 bytes in 32-byte packets: at least 1152 data packets.
    assert!(module.handle().packets_sent() - packets_before >= 1152);
}

#[test]
fn occasional_corrupt_acks_are_retried() {
    let module = start(Knobs::default());
    let mut scanner = open_module(&module);
    module.handle().update(|k| k.corrupt_every = 3);
    let mut events = Vec::new();
    let c = scanner
        .capture(
            &CaptureRequest::finger(Finger::RightMiddle, LONG),
            &CancelToken::new(),
            &mut |e| events.push(e),
        )
        .expect("retries recover");
    assert_eq!(c.fingers[0].pixels, expected_pixels(0));
    assert_eq!(events.last(), Some(&ScanEvent::FingerOff), "{events:?}");
    // Every third reply was spoiled, so commands were sent again.
    assert_eq!(module.handle().bad_frames(), 0);
    assert!(module.handle().commands_received() > 4);
    let again = capture(&mut scanner, Finger::RightRing, LONG).expect("next finger");
    assert_eq!(again.fingers[0].pixels, expected_pixels(1));
}

#[test]
fn a_corrupt_data_packet_repeats_the_upload() {
    let module = start(Knobs {
        corrupt_data_packets: 2,
        ..Knobs::default()
    });
    let mut scanner = open_module(&module);
    let c = capture(&mut scanner, Finger::RightRing, LONG).expect("the upload is repeated");
    assert_eq!(c.fingers[0].pixels, expected_pixels(0));
    assert_eq!(module.handle().knobs().corrupt_data_packets, 0);
}

#[test]
fn garbage_before_replies_is_skipped() {
    let module = start(Knobs {
        // Noise including a false header and a lone header byte.
        garbage_before: vec![0x00, 0x55, 0xEF, 0x01, 0xFF, 0x13, 0xEF, 0xAA, 0xEF],
        ..Knobs::default()
    });
    let mut scanner = open_module(&module);
    let c = capture(&mut scanner, Finger::LeftMiddle, LONG).expect("garbage is skipped");
    assert_eq!(c.fingers[0].pixels, expected_pixels(0));
}

#[test]
fn a_false_header_announcing_a_long_frame_is_skipped() {
    let module = start(Knobs {
        // A header claiming 256 payload bytes that never come.
        garbage_before: vec![0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x01, 0x02],
        ..Knobs::default()
    });
    let mut scanner = open_module(&module);
    let c = capture(&mut scanner, Finger::LeftIndex, LONG).expect("the false frame is dropped");
    assert_eq!(c.fingers[0].pixels, expected_pixels(0));
}

#[test]
fn persistent_corruption_is_a_protocol_error() {
    let module = start(Knobs::default());
    let mut scanner = open_module(&module);
    module.handle().update(|k| k.corrupt_every = 1);
    let err = capture(&mut scanner, Finger::LeftRing, LONG).expect_err("never a valid reply");
    let ScanError::Protocol(message) = err else {
        panic!("expected a protocol error, got {err:?}");
    };
    assert!(message.contains("GenImg"), "{message}");
    assert!(message.contains("after 4 attempts"), "{message}");
    assert!(message.contains("checksum mismatch"), "{message}");
}

#[test]
fn persistent_data_corruption_is_a_protocol_error() {
    let module = start(Knobs {
        corrupt_data_packets: u32::MAX,
        ..Knobs::default()
    });
    let mut scanner = open_module(&module);
    let err = capture(&mut scanner, Finger::LeftLittle, LONG).expect_err("no clean upload");
    let ScanError::Protocol(message) = err else {
        panic!("expected a protocol error, got {err:?}");
    };
    assert!(message.contains("UpImage"), "{message}");
}

#[test]
fn unplug_during_the_upload_is_a_disconnect() {
    let module = start(Knobs::default());
    let mut scanner = open_module(&module);
    let handle = module.handle();
    // GenImg replies and the UpImage ack are a handful of packets; the
    // image is 288 more, so this cuts the line mid-image.
    let sent = handle.packets_sent();
    handle.update(|k| k.disconnect_after = Some(sent + 60));
    let err = capture(&mut scanner, Finger::RightLittle, LONG).expect_err("unplugged");
    assert!(matches!(err, ScanError::Disconnected(_)), "{err:?}");
    assert_eq!(handle.images_taken(), 1, "the finger was imaged first");
}

#[test]
fn unplug_while_waiting_is_a_disconnect() {
    let module = start(Knobs {
        never_place: true,
        ..Knobs::default()
    });
    let mut scanner = open_module(&module);
    let handle = module.handle();
    let polls_before = handle.commands_received();
    let unplug = std::thread::spawn(move || {
        while handle.commands_received() < polls_before + 3 {
            std::thread::sleep(Duration::from_millis(2));
        }
        handle.disconnect();
    });
    let err = capture(&mut scanner, Finger::RightThumb, LONG).expect_err("unplugged");
    unplug.join().expect("unplug thread");
    assert!(matches!(err, ScanError::Disconnected(_)), "{err:?}");
}

#[test]
fn wrong_password_is_a_device_error() {
    let module = start(Knobs {
        password: 0x0BAD_CAFE,
        ..Knobs::default()
    });
    let err = open(&module.path(), 57_600).expect_err("the default password is wrong");
    assert_eq!(
        err,
        ScanError::Device {
            code: "0x13".into(),
            message: "wrong password".into()
        }
    );
    // With the right password the handshake passes.
    let port = serialport::new(module.path(), 57_600)
        .timeout(Duration::from_millis(20))
        .open()
        .expect("open the pty");
    let config = Config {
        password: 0x0BAD_CAFE,
        ..Config::default()
    };
    ZfmSensor::connect(port, "pty", config).expect("the right password");
}

#[test]
fn never_placing_a_finger_times_out() {
    let module = start(Knobs {
        never_place: true,
        ..Knobs::default()
    });
    let mut scanner = open_module(&module);
    let timeout = Duration::from_millis(150);
    let err = capture(&mut scanner, Finger::LeftThumb, timeout).expect_err("no finger");
    assert_eq!(err, ScanError::Timeout(timeout));
    assert_eq!(module.handle().images_taken(), 0);
}

#[test]
fn a_silent_module_is_no_answer() {
    let module = start(Knobs {
        reply_delay: Duration::from_millis(400),
        ..Knobs::default()
    });
    let port = serialport::new(module.path(), 57_600)
        .timeout(Duration::from_millis(20))
        .open()
        .expect("open the pty");
    let config = Config {
        command_timeout: Duration::from_millis(100),
        ..Config::default()
    };
    let err = ZfmSensor::connect(port, "pty", config).expect_err("the reply comes too late");
    // Silence is "no answer", not "no finger was placed".
    assert_eq!(err, ScanError::NoAnswer(Duration::from_millis(100)));
}

#[test]
fn a_module_falling_silent_while_polling_is_no_answer() {
    let module = start(Knobs {
        never_place: true,
        ..Knobs::default()
    });
    let config = Config {
        command_timeout: Duration::from_millis(100),
        ..Config::default()
    };
    let mut scanner = open_with(&module.path(), 57_600, config).expect("the module answers");
    // The module keeps answering "no finger" for a few polls, then its
    // replies come later than the command timeout.
    let handle = module.handle();
    let polls_before = handle.commands_received();
    let silencer = std::thread::spawn(move || {
        while handle.commands_received() < polls_before + 2 {
            std::thread::sleep(Duration::from_millis(2));
        }
        handle.update(|k| k.reply_delay = Duration::from_millis(400));
    });
    let err = capture(&mut scanner, Finger::RightThumb, LONG).expect_err("silent");
    silencer.join().expect("silencer thread");
    assert_eq!(err, ScanError::NoAnswer(Duration::from_millis(100)));
    assert!(
        err.to_string().contains("did not answer"),
        "the operator is not told to place a finger: {err}"
    );
}

#[test]
fn open_reports_no_answer_when_nothing_answers() {
    let module = start(Knobs {
        // The module only listens at a rate open never tries.
        baud: Some(14_400),
        ..Knobs::default()
    });
    let err = open(&module.path(), 57_600).expect_err("no baud rate matches");
    assert!(matches!(err, ScanError::NoAnswer(_)), "{err:?}");
}

#[test]
fn slow_replies_within_the_timeout_are_fine() {
    let module = start(Knobs {
        reply_delay: Duration::from_millis(20),
        ..Knobs::default()
    });
    let mut scanner = open_module(&module);
    let c = capture(&mut scanner, Finger::RightIndex, LONG).expect("slow but in time");
    assert_eq!(c.fingers[0].pixels, expected_pixels(0));
}

#[test]
fn cancel_stops_a_waiting_capture() {
    let module = start(Knobs {
        never_place: true,
        ..Knobs::default()
    });
    let mut scanner = open_module(&module);
    let handle = module.handle();
    let cancel = CancelToken::new();
    let remote = cancel.clone();
    let polls_before = handle.commands_received();
    let canceller = std::thread::spawn(move || {
        while handle.commands_received() < polls_before + 2 {
            std::thread::sleep(Duration::from_millis(2));
        }
        remote.cancel();
    });
    let result = scanner.capture(
        &CaptureRequest::finger(Finger::LeftIndex, LONG),
        &cancel,
        &mut |_| {},
    );
    canceller.join().expect("canceller thread");
    assert_eq!(result, Err(ScanError::Cancelled));
}

#[test]
fn open_finds_the_module_baud_rate() {
    let module = start(Knobs {
        baud: Some(115_200),
        ..Knobs::default()
    });
    // The station is configured for 9600; the module runs at 115200.
    let mut scanner = open(&module.path(), 9_600).expect("found at another baud");
    assert_eq!(scanner.sensor().port().baud_rate().expect("baud"), 115_200);
    let c = capture(&mut scanner, Finger::LeftThumb, LONG).expect("capture");
    assert_eq!(c.fingers[0].pixels, expected_pixels(0));
}

#[test]
fn set_baud_switches_module_and_host() {
    let module = start(Knobs {
        baud: Some(57_600),
        ..Knobs::default()
    });
    let mut scanner = open_module(&module);
    scanner
        .sensor_mut()
        .set_baud(115_200)
        .expect("SetSysPara 4");
    assert_eq!(module.handle().knobs().baud, Some(115_200));
    assert_eq!(scanner.sensor().parameters().baud(), 115_200);
    let c = capture(&mut scanner, Finger::RightThumb, LONG).expect("capture at 115200");
    assert_eq!(c.fingers[0].pixels, expected_pixels(0));
}

#[test]
fn a_missing_port_is_a_disconnect() {
    let err = open("/dev/pishkhan-no-such-tty", 57_600).expect_err("no such port");
    assert!(matches!(err, ScanError::Disconnected(_)), "{err:?}");
}

/// What the driver must deliver for the `n`th finger when the module
/// draws it poor.
fn expected_poor_pixels(n: usize) -> Vec<u8> {
    let finger = Finger::ALL[n % Finger::ALL.len()];
    let grey = SyntheticFinger::new(SyntheticFinger::DEFAULT_IDENTITY, finger).capture_in(
        SEED,
        proto::IMAGE_WIDTH,
        proto::IMAGE_HEIGHT,
        Condition::Poor,
    );
    proto::unpack_4bit(&proto::pack_4bit(&grey))
}

#[test]
fn poor_captures_spoil_exactly_that_many_images() {
    let module = start(Knobs {
        poor_captures: 2,
        ..Knobs::default()
    });
    let mut scanner = open_module(&module);
    let mut images = Vec::new();
    for (n, finger) in Finger::ALL.iter().take(3).enumerate() {
        let cap = capture(&mut scanner, *finger, LONG).expect("a capture");
        images.push(cap.fingers[0].pixels.clone());
        assert_eq!(
            module.handle().knobs().poor_captures,
            2u32.saturating_sub(n as u32 + 1),
            "one used per image"
        );
    }
    for (n, image) in images.iter().enumerate() {
        let poor = expected_poor_pixels(n);
        let normal = expected_pixels(n);
        assert_ne!(poor, normal);
        if n < 2 {
            assert!(*image == poor, "image {n} is poor");
        } else {
            assert!(*image == normal, "image {n} is normal again");
        }
    }
    // Set at run time, it spoils the next image only.
    module.handle().update(|k| k.poor_captures = 1);
    let cap = capture(&mut scanner, Finger::ALL[3], LONG).expect("a capture");
    assert!(cap.fingers[0].pixels == expected_poor_pixels(3));
    let cap = capture(&mut scanner, Finger::ALL[4], LONG).expect("a capture");
    assert!(cap.fingers[0].pixels == expected_pixels(4));
    assert_eq!(module.handle().images_taken(), 5);
}

#[test]
fn the_applicant_places_the_finger_asked_for_and_each_placing_is_another_capture() {
    let module = start(Knobs::default());
    let mut scanner = open_module(&module);
    let quantised = |finger: Finger, seed: u64| {
        let grey = ridge_pattern(finger, seed, proto::IMAGE_WIDTH, proto::IMAGE_HEIGHT);
        proto::unpack_4bit(&proto::pack_4bit(&grey))
    };
    module
        .handle()
        .update(|k| k.finger = Some(Finger::LeftRing));
    let first = capture(&mut scanner, Finger::LeftRing, LONG).expect("first");
    let again = capture(&mut scanner, Finger::LeftRing, LONG).expect("again");
    assert_eq!(first.fingers[0].pixels, quantised(Finger::LeftRing, SEED));
    assert_eq!(
        again.fingers[0].pixels,
        quantised(Finger::LeftRing, SEED + 1),
        "the same finger placed again: another capture of it"
    );
    // Without the knob the applicant goes on in order (two fingers placed).
    module.handle().update(|k| k.finger = None);
    let next = capture(&mut scanner, Finger::RightMiddle, LONG).expect("next");
    assert_eq!(next.fingers[0].pixels, expected_pixels(2));
}
