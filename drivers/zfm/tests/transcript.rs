//! Recording the real driver's traffic with the virtual module, and
//! replaying the committed recording without any tty.
//!
//! `ZFM_RECORD=1 cargo test -p pishkhan-zfm --test transcript` rewrites
//! the fixture `tests/transcripts/virtual-module-capture.txt` from a live
//! session; every other run only replays it.
#![cfg(unix)]

use std::path::PathBuf;
use std::time::Duration;

use pishkhan_scanner::{
    CancelToken, Capture, CaptureRequest, Finger, Polling, ScanError, ScanEvent, Scanner,
    ridge_pattern,
};
use pishkhan_zfm::proto::{self, Command, DEFAULT_ADDRESS};
use pishkhan_zfm::transcript::{HEADER, Line, record_capture};
use pishkhan_zfm::{Config, Knobs, Replayer, Transcript, VirtualModule, ZfmSensor};

/// The identity of the virtual applicant in the fixture.
const SEED: u64 = 0x005E_ED1D;
/// The finger the station asks for (the wire does not carry it).
const FINGER: Finger = Finger::RightIndex;
const LONG: Duration = Duration::from_secs(10);

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/virtual-module-capture.txt")
}

fn fixture() -> String {
    let path = fixture_path();
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; record it with ZFM_RECORD=1",
            path.display()
        )
    })
}

/// The first image the virtual module takes: the ridge pattern of
/// `Finger::ALL[0]` for `SEED`, quantised to 4 bits and expanded again.
fn expected_pixels() -> Vec<u8> {
    let grey = ridge_pattern(
        Finger::ALL[0],
        SEED,
        proto::IMAGE_WIDTH,
        proto::IMAGE_HEIGHT,
    );
    proto::unpack_4bit(&proto::pack_4bit(&grey))
}

/// Replays through the real driver and the station's polling state
/// machine; returns the result, the events and whether every recorded
/// byte was used.
fn replay(
    replayer: Replayer,
    config: Config,
) -> (Result<Capture, ScanError>, Vec<ScanEvent>, bool) {
    let sensor = match ZfmSensor::connect(replayer, "replay", config) {
        Ok(sensor) => sensor,
        Err(e) => return (Err(e), Vec::new(), false),
    };
    // The poll interval does not change what is written, only how fast.
    let mut scanner = Polling::new(sensor, Duration::from_millis(1));
    let mut events = Vec::new();
    let result = scanner.capture(
        &CaptureRequest::finger(FINGER, LONG),
        &CancelToken::new(),
        &mut |e| events.push(e),
    );
    let finished = scanner.sensor().port().is_finished();
    (result, events, finished)
}

fn count_writes(transcript: &Transcript, command: Command) -> usize {
    let bytes = command.packet(DEFAULT_ADDRESS).encode();
    transcript
        .lines()
        .iter()
        .filter(|l| **l == Line::Sent(bytes.clone()))
        .count()
}

#[test]
fn a_recorded_virtual_session_replays_to_the_same_image() {
    let mut module = VirtualModule::start(SEED, Knobs::default()).expect("a pty pair");
    let mut port = module.take_host_port().expect("the host end");
    serialport::SerialPort::set_timeout(&mut port, Duration::from_millis(20)).expect("timeout");
    let note = format!(
        "the virtual module over a pty, identity seed 0x{SEED:08X}, default knobs; \
         the image is ridge_pattern(Finger::ALL[0], seed, 256, 288) at 4 bits"
    );
    let (live, text) = record_capture(port, "pty", &note, FINGER, LONG);
    let live = live.expect("a live capture");
    assert_eq!(live.fingers[0].pixels, expected_pixels());

    let transcript = Transcript::parse(&text).expect("the recording parses");
    assert_eq!(text.lines().next(), Some(HEADER));
    assert_eq!(transcript.to_string(), text, "printing gives the same text");
    let sent = transcript.sent_bytes();
    assert!(sent.starts_with(&Command::VfyPwd(0).packet(DEFAULT_ADDRESS).encode()));
    assert_eq!(count_writes(&transcript, Command::UpImage), 1);
    // At least one "no finger" poll before the finger, one that sees it,
    // and one that sees it lifted.
    let polls = count_writes(&transcript, Command::GenImg);
    assert!(polls >= 3, "{polls} GenImg");
    // The image and the handshake replies are all in the recording.
    assert!(transcript.received_bytes().len() > proto::IMAGE_BYTES);

    let (replayed, events, finished) = replay(
        Replayer::from_text(&text).expect("valid"),
        Config::default(),
    );
    let replayed = replayed.expect("the replay captures");
    assert_eq!(replayed, live, "the replay gives the live capture");
    assert_eq!(events.len(), 4, "{events:?}");
    assert!(finished, "the driver wrote and read everything recorded");

    if std::env::var_os("ZFM_RECORD").is_some_and(|v| v == "1") {
        let path = fixture_path();
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, &text).expect("write the fixture");
        eprintln!("recorded {} ({polls} GenImg)", path.display());
    }
}

#[test]
fn the_committed_fixture_replays_through_polling() {
    let text = fixture();
    let (result, events, finished) = replay(
        Replayer::from_text(&text).expect("valid"),
        Config::default(),
    );
    let capture = result.expect("the replay captures");
    assert_eq!(capture.fingers.len(), 1);
    let image = &capture.fingers[0];
    assert_eq!(image.finger, FINGER);
    assert_eq!((image.width, image.height), (256, 288));
    assert!(
        image.pixels == expected_pixels(),
        "the replayed image is not the ridge pattern of seed 0x{SEED:08X}"
    );
    assert_eq!(
        events,
        vec![
            ScanEvent::WaitingForFinger,
            ScanEvent::FingerOn,
            ScanEvent::Captured(capture.clone()),
            ScanEvent::FingerOff,
        ]
    );
    // The driver issued exactly the recorded writes, no more, no fewer:
    // a write more would have been refused, one fewer leaves bytes over.
    assert!(finished, "recorded bytes were left over");
}

/// The fixture with one bit flipped in the payload of the sixth image
/// data packet; returns the tampered text and the line number.
fn tampered_fixture() -> (String, usize) {
    let mut transcript = Transcript::parse(&fixture()).expect("valid");
    let up_image = Line::Sent(Command::UpImage.packet(DEFAULT_ADDRESS).encode());
    let start = transcript
        .lines()
        .iter()
        .position(|l| *l == up_image)
        .expect("an UpImage in the fixture");
    // The reply stream after UpImage: a 12-byte ack, then 139-byte data
    // packets (128-byte payloads).
    let mut stream_offset = 0;
    let target = 12 + 5 * 139 + 9 + 50;
    for (i, line) in transcript
        .lines_mut()
        .iter_mut()
        .enumerate()
        .skip(start + 1)
    {
        let Line::Received(bytes) = line else {
            assert!(
                matches!(line, Line::Comment(_)),
                "the image is one reply stream"
            );
            continue;
        };
        if target < stream_offset + bytes.len() {
            bytes[target - stream_offset] ^= 0x01;
            return (transcript.to_string(), i + 2);
        }
        stream_offset += bytes.len();
    }
    panic!("the image is shorter than expected");
}

#[test]
fn a_tampered_image_byte_is_a_protocol_error() {
    let (text, line) = tampered_fixture();
    // Check the tamper hit a data packet's payload, not a header.
    let transcript = Transcript::parse(&text).expect("still valid hex");
    let original = Transcript::parse(&fixture()).expect("valid");
    let reply = |t: &Transcript| t.received_bytes();
    let diff: Vec<usize> = reply(&transcript)
        .iter()
        .zip(reply(&original))
        .enumerate()
        .filter(|(_, (a, b))| *a != b)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(diff.len(), 1, "one byte differs (line {line})");

    let (result, _, _) = replay(
        Replayer::from_text(&text).expect("valid"),
        Config::default(),
    );
    let err = result.expect_err("the checksum fails");
    let ScanError::Protocol(message) = err else {
        panic!("expected a protocol error, got {err:?}");
    };
    // The driver saw the bad packet, asked for the image again, and the
    // replayer refused the repeated UpImage (it recorded none).
    assert!(message.contains("checksum mismatch"), "{message}");
    assert!(message.contains("UpImage"), "{message}");
    assert!(message.contains("transcript line"), "{message}");
}

/// The fixture cut after `keep` text lines.
fn truncated(keep: usize) -> String {
    let mut out = String::new();
    for l in fixture().lines().take(keep) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[test]
fn a_truncated_transcript_ends_cleanly() {
    let total = fixture().lines().count();
    // Cut in the middle of the image.
    let text = truncated(total - 40);
    let (result, _, _) = replay(
        Replayer::from_text(&text).expect("valid"),
        Config::default(),
    );
    let err = result.expect_err("the image is cut short");
    let ScanError::Disconnected(message) = &err else {
        panic!("expected a disconnect, got {err:?}");
    };
    assert!(message.contains("transcript ended"), "{message}");

    // A module that falls silent instead: no answer within the packet
    // timeout.
    let config = Config {
        packet_timeout: Duration::from_millis(50),
        ..Config::default()
    };
    let silent = Replayer::from_text(&text).expect("valid").silent_at_end();
    let (result, _, _) = replay(silent, config);
    assert_eq!(
        result.expect_err("silent"),
        ScanError::NoAnswer(Duration::from_millis(50))
    );

    // Cut during the handshake: connect fails, it does not hang.
    let text = truncated(4);
    let (result, _, _) = replay(
        Replayer::from_text(&text).expect("valid"),
        Config::default(),
    );
    assert!(
        matches!(result, Err(ScanError::Disconnected(_))),
        "{result:?}"
    );

    // Cut in the middle of a line: the parser names the line.
    let full = fixture();
    let long_line = full
        .lines()
        .position(|l| l.starts_with("< ") && l.len() > 100)
        .expect("an image line");
    let mut cut: String = full
        .lines()
        .take(long_line)
        .map(|l| format!("{l}\n"))
        .collect();
    cut.push_str(&full.lines().nth(long_line).expect("the line")[..51]);
    let err = Transcript::parse(&cut).expect_err("an odd number of digits");
    assert_eq!(err.line, long_line + 1);
    assert!(err.to_string().contains("odd number"), "{err}");
}
