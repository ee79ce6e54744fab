//! The `pishkhan` command: the station window by default, and subcommands
//! for headless work.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use pishkhan::devices::Devices;
use pishkhan::enrolment::Step;
use pishkhan::i18n::{I18n, Lang};
use pishkhan::station::Station;
use pishkhan::store::outbox;
use pishkhan::{environment, selftest, ui};

#[derive(Parser)]
#[command(
    name = "pishkhan",
    version,
    about = "Enrolment station for smart national ID cards"
)]
struct Cli {
    /// Where the station keeps its configuration, database and keys.
    #[arg(long, env = "PISHKHAN_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Interface language (overrides the configuration).
    #[arg(long, value_enum)]
    lang: Option<LangArg>,
    /// Open at a wizard step with the built-in test applicant (for
    /// screenshots and demonstrations; seals a test packet at "done").
    #[arg(long, value_enum, hide = true)]
    demo_step: Option<StepArg>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    Fa,
    En,
}

#[derive(Clone, Copy, ValueEnum)]
enum StepArg {
    Applicant,
    Documents,
    Portrait,
    Fingerprints,
    Review,
    Done,
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Saves a reprint of the receipt with tracking code (or national code)
    /// CODE as a PDF, with a supervisor's approval: the password is read
    /// from PISHKHAN_SUPERVISOR_PASSWORD or the first line of stdin.
    Save {
        code: String,
        #[arg(long)]
        out: PathBuf,
        /// The approving supervisor's username.
        #[arg(long)]
        supervisor: String,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Binds the station to its office, the authority's key and the
    /// intake (only the keys concerned change in pishkhan.toml), makes
    /// sure the station's key pair exists and exports its public key for
    /// registration at the intake (a file, and a QR code on the terminal).
    Provision {
        /// The office code the authority assigned (ASCII letters, digits,
        /// `-`, `_`).
        #[arg(long, value_name = "CODE")]
        office: String,
        /// What the office calls this station ("Counter 3").
        #[arg(long, value_name = "NAME")]
        name: String,
        /// The station number inside tracking codes (0–9999); unchanged
        /// when not given (derived from the station id if never set).
        #[arg(long, value_name = "N")]
        number: Option<u16>,
        /// The authority's age public key (`age1…`); repeat for more keys
        /// (rotation, backup).
        #[arg(long = "recipient", value_name = "AGE1…", required = true)]
        recipients: Vec<String>,
        /// The intake's tus endpoint (`https://intake.example/files/`; a
        /// bare `https://host` means its `/files/`). Plain http only to
        /// this computer.
        #[arg(long, value_name = "URL")]
        intake_url: String,
        /// The intake's certificate or CA (PEM) to pin; copied into the
        /// data directory (`pishkhan intake certificate` prints it).
        #[arg(long, value_name = "FILE.pem")]
        intake_certificate: Option<PathBuf>,
        /// The intake's receipt key, hex (`pishkhan intake key` prints
        /// it); needed unless already configured.
        #[arg(long, value_name = "HEX")]
        intake_key: Option<String>,
        /// Where to write the registration file (default:
        /// station-registration.json in the data directory).
        #[arg(long, value_name = "FILE")]
        export: Option<PathBuf>,
        /// Also save the QR code as a PNG image.
        #[arg(long, value_name = "FILE.png")]
        qr_png: Option<PathBuf>,
        /// Re-provision a station that is bound to an office already.
        #[arg(long)]
        force: bool,
    },
    /// The outbox of sealed packets.
    Queue {
        #[command(subcommand)]
        command: QueueCommand,
    },
    /// Applicants' receipts kept for reprinting.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// Today at a glance: sealed today, waiting, acknowledged, rejected,
    /// drafts, and the free disk.
    Dashboard {
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The station's audit log (hash-chained, signed by the station key).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Lists fingerprint scanners: serial ports (probing USB-serial bridges
    /// for a ZhianTec module) and SBI services on 127.0.0.1:4501–4600.
    Devices {
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
        /// Start a virtual device for the duration of the command (the
        /// station's demo mode starts them on its own).
        #[arg(long = "virtual", value_enum)]
        virtual_devices: Vec<VirtualArg>,
        /// Take one test impression with the first scanner found and save
        /// the first finger to this PNG file.
        #[arg(long, value_name = "PNG")]
        capture: Option<PathBuf>,
        /// Baud rate tried first with ZhianTec modules.
        #[arg(long, default_value_t = 57_600)]
        baud: u32,
    },
    /// Uploads queued packets to the intake (`[upload]` in the
    /// configuration): runs until stopped, or until the queue is empty.
    Upload {
        /// Stop when no packet waits (failed ones are retried at their
        /// time first).
        #[arg(long)]
        until_empty: bool,
    },
    /// Pre-registrations: the office's appointment list from the intake,
    /// cached encrypted for offline use.
    Prereg {
        #[command(subcommand)]
        command: PreregCommand,
    },
    /// A mobile team's visits ([station] team): the visit list from the
    /// intake, kept encrypted for days offline, and a record of each visit,
    /// queued like a packet.
    Visits {
        #[command(subcommand)]
        command: VisitsCommand,
    },
    /// The kit's GPS receiver (`[devices] gps`).
    Gps {
        #[command(subcommand)]
        command: GpsCommand,
    },
    /// Where an applicant's card is, asked of the intake (`[upload] url`):
    /// by the tracking code on the receipt, or by national code, birth
    /// certificate serial and birth date. Prints the stage in the
    /// configured language; exits 1 when nothing matches or the intake
    /// cannot answer.
    Status {
        /// The tracking code (Persian or ASCII digits; spaces and dashes
        /// are ignored).
        #[arg(long, value_name = "CODE", required_unless_present_any = ["national_code", "clock"])]
        tracking: Option<String>,
        /// The applicant's national code (10 digits).
        #[arg(long, conflicts_with = "tracking", requires_all = ["serial", "birth_date"])]
        national_code: Option<String>,
        /// The birth certificate's serial (six digits).
        #[arg(long, requires = "national_code")]
        serial: Option<String>,
        /// The Jalali birth date.
        #[arg(long, value_name = "YYYY/MM/DD", requires = "national_code")]
        birth_date: Option<String>,
        /// Instead: the intake's clock against this station's.
        #[arg(long, conflicts_with_all = ["tracking", "national_code"])]
        clock: bool,
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The reference intake server (the authority's receiving end).
    Intake {
        /// The intake's own data directory.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[command(subcommand)]
        command: IntakeCommand,
    },
    /// ANSI/NIST-ITL 1-2011 transactions (traditional encoding).
    An2k {
        #[command(subcommand)]
        command: An2kCommand,
    },
    /// WSQ (FBI Wavelet Scalar Quantization) compression of finger images.
    Wsq {
        #[command(subcommand)]
        command: WsqCommand,
    },
    /// The station's judgement of finger images.
    Finger {
        #[command(subcommand)]
        command: FingerCommand,
    },
    /// The station's judgement of portrait photographs (ICAO checks).
    Portrait {
        #[command(subcommand)]
        command: PortraitCommand,
    },
    /// Runs complete enrolments of a built-in test applicant through the
    /// attached (or virtual) devices and seals them as test packets.
    SelfTest {
        /// How many enrolments to run.
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// Capture once, then seal that session `count` times under new
        /// packet ids (a storage stress test; the crash test uses it).
        #[arg(long, hide = true)]
        seal_only: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum VirtualArg {
    /// A ZhianTec module on a pseudo-terminal.
    Zfm,
    /// A MOSIP SBI slap scanner service on loopback.
    Sbi,
}

#[derive(Subcommand)]
enum WsqCommand {
    /// Compresses a PNG or JPEG finger image (500 ppi, grey) to WSQ.
    Encode {
        input: PathBuf,
        output: PathBuf,
        /// Bits per pixel: 0.75 (FBI/IAFIS, about 15:1) to 2.25 (about 5:1).
        #[arg(long, default_value_t = 0.75)]
        bitrate: f32,
    },
    /// Decompresses a WSQ file to PNG.
    Decode { input: PathBuf, output: PathBuf },
}

#[derive(Subcommand)]
enum PortraitCommand {
    /// Prints, per image, the faces found, the eye centres and every
    /// check's value and verdict. Exits 1 unless every image is compliant.
    Check {
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// One JSON array instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Writes the ISO/IEC 19794-5 token crop (480×640 JPEG), or says which
    /// check stops it.
    Crop { input: PathBuf, output: PathBuf },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Proves the chain intact (every entry's hash, its link to the one
    /// before, the station's signature), or names the first broken entry
    /// and exits 1.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Prints every entry, oldest first.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum FingerCommand {
    /// Prints the quality score (0–100) and the failing measures of each
    /// image (PNG, JPEG or WSQ; 500 ppi).
    Quality {
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// One JSON array instead of text.
        #[arg(long)]
        json: bool,
        /// The pass mark (default: the station's configured threshold, or 40).
        #[arg(long)]
        threshold: Option<u8>,
    },
}

#[derive(Subcommand)]
enum QueueCommand {
    /// Lists queued packets (oldest first).
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Shows one packet's queue record and outer header.
    Show {
        /// Packet id (or its first 8+ characters) or tracking code.
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Checks packets' signatures and hashes (all packets without an ID);
    /// with --identity also decrypts and checks the inside.
    Verify {
        id: Option<String>,
        /// An authority identity file (AGE-SECRET-KEY-…).
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Copies the packets not yet acknowledged to a folder (a USB stick)
    /// with a signed index; they stay queued for upload.
    Export {
        #[arg(long = "to", value_name = "DIR")]
        to: PathBuf,
    },
    /// Takes in the packets of an exported folder (idempotent).
    Import {
        #[arg(long = "from", value_name = "DIR")]
        from: PathBuf,
    },
    /// A supervisor resolves a packet the intake refused: --requeue sends
    /// it again from the start (the cause was fixed), --dismiss records
    /// that it will not be sent (kept, with --note). The password is read
    /// from PISHKHAN_SUPERVISOR_PASSWORD or the first line of stdin.
    #[command(group(clap::ArgGroup::new("action").required(true).args(["requeue", "dismiss"])))]
    Resolve {
        /// Packet id (or its first 8+ characters) or tracking code.
        id: String,
        #[arg(long)]
        requeue: bool,
        #[arg(long, requires = "note")]
        dismiss: bool,
        /// The approving supervisor's username.
        #[arg(long)]
        supervisor: String,
        /// Why (required with --dismiss; recorded in the audit log).
        #[arg(long)]
        note: Option<String>,
    },
    /// Decrypts a packet with an authority identity, verifies it and writes
    /// its parts to a folder.
    Open {
        id: String,
        #[arg(long, value_name = "FILE")]
        identity: PathBuf,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum PreregCommand {
    /// Fetches the office's appointment list from the intake (`[upload]
    /// url`) into the encrypted cache.
    Sync,
    /// Finds appointments by tracking code or national code (Persian,
    /// Arabic-Indic or ASCII digits; spaces and dashes are ignored) and
    /// says whether each was already used; exits 1 when none matches.
    Find {
        query: String,
        /// One JSON array instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Lists the cached appointment list of the station's office.
    List {
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum VisitsCommand {
    /// Fetches the team's visit list from the intake (`[upload] url`).
    Fetch,
    /// Lists the cached visits (today's route first with --today), each
    /// with what was recorded.
    List {
        /// Only today's route.
        #[arg(long)]
        today: bool,
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Records how a visit ended; the record is sealed and queued.
    Record {
        /// The visit's id on the list.
        visit: String,
        #[arg(value_enum)]
        outcome: OutcomeArg,
        /// The operator recording it.
        #[arg(long)]
        operator: String,
        /// `enrolled`: the packet id of the enrolment.
        #[arg(long)]
        packet: Option<String>,
        /// `rescheduled`: the new day, Jalali YYYY/MM/DD.
        #[arg(long)]
        day: Option<String>,
        /// Where, typed: "latitude, longitude".
        #[arg(long, conflicts_with = "gps")]
        location: Option<String>,
        /// Where, from the GPS receiver (`[devices] gps`): waits up to 60 s
        /// for a fix; without one nothing is recorded.
        #[arg(long)]
        gps: bool,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Subcommand)]
enum GpsCommand {
    /// Takes a fix from the receiver and prints the position, or why
    /// there is none (exit 1).
    Fix {
        /// Longest wait for a fix, seconds.
        #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
        timeout: u64,
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// How a visit ended.
#[derive(Clone, Copy, ValueEnum)]
enum OutcomeArg {
    Enrolled,
    NotHome,
    Refused,
    Rescheduled,
}

#[derive(Subcommand)]
enum VisitListsCommand {
    /// Imports a team's visit list (JSON), replacing the team's previous
    /// list; the file is checked first.
    Import { file: PathBuf },
    /// Prints the field records received (JSON lines), of one team or all.
    Records {
        #[arg(long)]
        team: Option<String>,
    },
}

#[derive(Subcommand)]
enum AppointmentsCommand {
    /// Imports an office's appointment list (JSON), replacing the office's
    /// previous list; the file is checked first.
    Import { file: PathBuf },
    /// Lists the stored appointments, each open or consumed.
    List {
        /// Only this office.
        #[arg(long)]
        office: Option<String>,
    },
}

#[derive(Subcommand)]
enum IntakeCommand {
    /// Serves the tus endpoint (`/files/`) and `/v1/status`.
    Serve {
        /// Overrides `listen` in intake.toml.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Registers a station: from the registration file `pishkhan
    /// provision` wrote, from its data directory, or by id and key.
    Register {
        /// A station's registration file (`pishkhan provision --export`):
        /// id, key, name and office, checked against the station's
        /// signature.
        #[arg(long = "from", value_name = "FILE", conflicts_with_all = ["station_dir", "station_id", "key"])]
        from: Option<PathBuf>,
        /// A station's data directory (its id and public key are read).
        #[arg(long, value_name = "DIR", conflicts_with_all = ["station_id", "key"])]
        station_dir: Option<PathBuf>,
        #[arg(long, requires = "key")]
        station_id: Option<String>,
        /// The station's Ed25519 public key, hex.
        #[arg(long)]
        key: Option<String>,
        /// The station's name (default: the registration file's).
        #[arg(long)]
        name: Option<String>,
        /// The office the station enrols for: it may then fetch only that
        /// office's appointments (default: the registration file's).
        #[arg(long)]
        office: Option<String>,
    },
    /// Pre-registrations served at `/v1/appointments`.
    Appointments {
        #[command(subcommand)]
        command: AppointmentsCommand,
    },
    /// Mobile teams' visit lists served at `/v1/visits`, and the field
    /// records received.
    Visits {
        #[command(subcommand)]
        command: VisitListsCommand,
    },
    /// Sets the stage of a card, as the authority's back office does
    /// (stations show it at the counter): in-production, ready (where it
    /// can be collected: --office) or handed-over.
    CardStatus {
        /// The tracking code of the enrolment (16 digits).
        tracking: String,
        #[arg(value_enum)]
        stage: CardStageArg,
        /// The office where the card can be collected (ready) or was
        /// handed over.
        #[arg(long, value_name = "NAME")]
        office: Option<String>,
    },
    /// Takes in a station's export folder (`pishkhan queue export`, e.g. a
    /// kit's USB stick): every packet judged as its upload would be and
    /// its receipt kept, so that the station's later upload is
    /// acknowledged at once. Exits 1 if any packet is rejected or damaged.
    Import {
        #[arg(long = "from", value_name = "DIR")]
        from: PathBuf,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Re-sends the authority asks stations for (served at `/v1/resend`).
    Resend {
        #[command(subcommand)]
        command: ResendCommand,
    },
    /// Prints the key stations check receipts with (for `[upload] intake_key`).
    Key,
    /// Prints the HTTPS certificate (PEM) stations pin (`[upload]
    /// server_certificate`), making a self-signed one if there is none.
    Certificate,
}

#[derive(Subcommand)]
enum ResendCommand {
    /// Asks the station that sealed an accepted packet to send it again
    /// (its stored copy was lost or damaged): the station puts it at the
    /// head of its queue if it still keeps it.
    Ask {
        /// The packet id.
        packet: String,
        /// Why; the station's queue screen and audit log show it.
        #[arg(long)]
        reason: String,
    },
    /// Lists the open requests (with --all, fulfilled ones too).
    List {
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
}

/// The stages the back office sets.
#[derive(Clone, Copy, ValueEnum)]
enum CardStageArg {
    InProduction,
    Ready,
    HandedOver,
}

#[derive(Subcommand)]
enum An2kCommand {
    /// Prints an ANSI/NIST-ITL transaction one item a line.
    Dump { file: PathBuf },
    /// Runs the reader's checks (and, on a station's own transaction, the
    /// Type-2 field map's); prints every problem and exits 1 if any.
    Check { file: PathBuf },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PISHKHAN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let data_dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(environment::default_data_dir);
    match cli.command {
        None => gui(&cli, &data_dir),
        Some(Command::Provision {
            office,
            name,
            number,
            recipients,
            intake_url,
            intake_certificate,
            intake_key,
            export,
            qr_png,
            force,
        }) => {
            let request = pishkhan::provision::Request {
                office,
                name,
                number,
                recipients,
                intake_url,
                intake_certificate,
                intake_key,
            };
            provision(&data_dir, &request, export, qr_png.as_deref(), force)
        }
        Some(Command::Queue { command }) => queue(&data_dir, command),
        Some(Command::Audit { command }) => audit(&data_dir, command),
        Some(Command::Dashboard { json }) => dashboard(&data_dir, json),
        Some(Command::Receipt {
            command:
                ReceiptCommand::Save {
                    code,
                    out,
                    supervisor,
                },
        }) => receipt_save(&data_dir, &code, &out, &supervisor),
        Some(Command::An2k { command }) => an2k(command),
        Some(Command::Upload { until_empty }) => upload(&data_dir, until_empty),
        Some(Command::Intake { dir, command }) => intake(&dir, command),
        Some(Command::Prereg { command }) => prereg(&data_dir, command),
        Some(Command::Visits { command }) => visits(&data_dir, command),
        Some(Command::Gps { command }) => gps(&data_dir, command),
        Some(Command::Status {
            tracking,
            national_code,
            serial,
            birth_date,
            clock,
            json,
        }) => {
            let asked = match (clock, tracking, national_code) {
                (true, _, _) => None,
                (false, Some(code), _) => Some(StatusArgs::Tracking(code)),
                (false, None, national_code) => Some(StatusArgs::Applicant(
                    national_code.unwrap_or_default(),
                    serial.unwrap_or_default(),
                    birth_date.unwrap_or_default(),
                )),
            };
            applicant_status(&data_dir, cli.lang, asked, json)
        }
        Some(Command::SelfTest { count, seal_only }) => self_test(&data_dir, count, seal_only),
        Some(Command::Wsq { command }) => wsq(command),
        Some(Command::Finger {
            command:
                FingerCommand::Quality {
                    images,
                    json,
                    threshold,
                },
        }) => finger_quality(&data_dir, &images, json, threshold),
        Some(Command::Portrait { command }) => portrait(&data_dir, command),
        Some(Command::Devices {
            json,
            virtual_devices,
            capture,
            baud,
        }) => devices(json, &virtual_devices, capture.as_deref(), baud),
    }
}

fn portrait(data_dir: &std::path::Path, command: PortraitCommand) -> ExitCode {
    // The configured limits, without creating a station where there is
    // none (a quality officer may run this anywhere).
    let policy = std::fs::read_to_string(data_dir.join(pishkhan::config::FILE_NAME))
        .ok()
        .and_then(|text| pishkhan::config::Config::parse(&text).ok())
        .map(|(config, _)| config.portrait.policy())
        .unwrap_or_default();
    match command {
        PortraitCommand::Check { images, json } => {
            let reports = match pishkhan::portrait::check(&images, &policy) {
                Ok(reports) => reports,
                Err(e) => {
                    eprintln!("pishkhan: {e}");
                    return ExitCode::FAILURE;
                }
            };
            if !print_reports(&reports, json, pishkhan::portrait::Report::text) {
                return ExitCode::FAILURE;
            }
            if reports.iter().all(|r| r.compliant) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        PortraitCommand::Crop { input, output } => {
            match pishkhan::portrait::crop(&input, &output, &policy) {
                Ok(report) => {
                    println!("{}", report.text());
                    println!("wrote {}", output.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("pishkhan: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn wsq(command: WsqCommand) -> ExitCode {
    let result = match command {
        WsqCommand::Encode {
            input,
            output,
            bitrate,
        } => pishkhan::tools::wsq_encode(&input, &output, bitrate),
        WsqCommand::Decode { input, output } => pishkhan::tools::wsq_decode(&input, &output),
    };
    match result {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pishkhan: {e}");
            ExitCode::FAILURE
        }
    }
}

fn finger_quality(
    data_dir: &std::path::Path,
    images: &[PathBuf],
    json: bool,
    threshold: Option<u8>,
) -> ExitCode {
    // The configured threshold, without creating a station where there is
    // none (a technician may run this anywhere).
    let threshold = threshold.unwrap_or_else(|| {
        std::fs::read_to_string(data_dir.join(pishkhan::config::FILE_NAME))
            .ok()
            .and_then(|text| pishkhan::config::Config::parse(&text).ok())
            .map_or(40, |(config, _)| config.fingerprints.quality_threshold)
    });
    let reports = pishkhan::tools::finger_quality(images, threshold);
    if !print_reports(&reports, json, |r| r.line(threshold)) {
        return ExitCode::FAILURE;
    }
    if reports.iter().any(|r| r.error.is_some()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints reports as one JSON array, or one `line` each; false when the
/// JSON could not be written.
fn print_reports<T: serde::Serialize>(
    reports: &[T],
    json: bool,
    line: impl Fn(&T) -> String,
) -> bool {
    if json {
        match serde_json::to_string_pretty(reports) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("pishkhan: {e}");
                return false;
            }
        }
    } else {
        for report in reports {
            println!("{}", line(report));
        }
    }
    true
}

fn open(data_dir: &std::path::Path) -> Result<Station, ExitCode> {
    Station::open(data_dir).map_err(|e| {
        eprintln!("pishkhan: {e}");
        ExitCode::FAILURE
    })
}

fn gui(cli: &Cli, data_dir: &std::path::Path) -> ExitCode {
    let station = match Station::open(data_dir) {
        Ok(station) => {
            for warning in &station.warnings {
                tracing::warn!("{warning}");
            }
            let devices = Devices::from_config(&station.config);
            tracing::info!(camera = ?devices.camera, scanner = %devices.scanner.info().name, demo = station.demo, "station ready");
            Ok((Arc::new(station), devices))
        }
        Err(e) => {
            tracing::error!("{e}");
            Err(e.to_string())
        }
    };
    let background = match &station {
        Ok((station, _)) => match pishkhan::upload::start_background(station.clone()) {
            Ok(Some(background)) => {
                tracing::info!(endpoint = %background.endpoint, "uploading in the background");
                Some(background)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::error!("uploads not started: {e}");
                None
            }
        },
        Err(_) => None,
    };
    let start = ui::app::Start {
        uploads: background.as_ref().map(|b| b.progress.clone()),
        intake: background.map(|b| b.config),
        station,
        lang: cli.lang.map(|l| match l {
            LangArg::Fa => Lang::Fa,
            LangArg::En => Lang::En,
        }),
        demo_step: cli.demo_step.map(|s| match s {
            StepArg::Applicant => Step::Applicant,
            StepArg::Documents => Step::Documents,
            StepArg::Portrait => Step::Portrait,
            StepArg::Fingerprints => Step::Fingerprints,
            StepArg::Review => Step::Review,
            StepArg::Done => Step::Done,
        }),
    };
    match ui::run(start) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pishkhan: the window could not be opened: {e}");
            ExitCode::FAILURE
        }
    }
}

fn provision(
    data_dir: &std::path::Path,
    request: &pishkhan::provision::Request,
    export: Option<PathBuf>,
    qr_png: Option<&std::path::Path>,
    force: bool,
) -> ExitCode {
    use pishkhan::provision;
    // The inputs first: a mistyped key must not leave a new station behind.
    let current = std::fs::read_to_string(data_dir.join(pishkhan::config::FILE_NAME))
        .ok()
        .and_then(|text| pishkhan::config::Config::parse(&text).ok())
        .map(|(config, _)| config)
        .unwrap_or_default();
    let english = pishkhan::i18n::I18n::new(Lang::En);
    let problems = provision::problems(request, &current);
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("pishkhan: {}", english.text(&p.text));
        }
        return ExitCode::FAILURE;
    }
    // Creates what a new station lacks, the key pair among it.
    let station = match open(data_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let done = match provision::provision(&station, request, force) {
        Ok(done) => done,
        Err(e) => {
            for text in e.texts() {
                eprintln!("pishkhan: {}", english.text(&text));
            }
            return ExitCode::FAILURE;
        }
    };
    for change in &done.changes {
        println!("{}: {}", change.key, change.detail());
    }
    if done.changes.is_empty() {
        println!("nothing changed");
    }
    let registration = &done.registration;
    let export = export.unwrap_or_else(|| data_dir.join(provision::REGISTRATION_FILE));
    if let Err(e) = registration.write(&export) {
        return fail(format!("{}: {e}", export.display()));
    }
    println!(
        "station {} (number {:04}, office {}, \"{}\") provisioned; audit entry recorded",
        registration.station_id, registration.number, registration.office, registration.name
    );
    println!("public key {}", registration.public_key);
    println!("registration file: {}", export.display());
    match registration.qr_text() {
        Ok(qr) => println!("{qr}"),
        Err(e) => eprintln!("pishkhan: no QR code: {e}"),
    }
    if let Some(png) = qr_png {
        if let Err(e) = registration.write_qr_png(png) {
            return fail(e);
        }
        println!("QR code saved to {}", png.display());
    }
    println!(
        "next: at the intake, pishkhan intake --dir DIR register --from {}; then start pishkhan to create the first supervisor",
        export.file_name().map_or_else(
            || export.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        )
    );
    ExitCode::SUCCESS
}

fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("pishkhan: {e}");
    ExitCode::FAILURE
}

fn print_json(value: &impl serde::Serialize) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| std::io::Write::write_all(&mut out, b"\n"))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// A supervisor's password for a command: PISHKHAN_SUPERVISOR_PASSWORD,
/// else the first line of stdin.
fn supervisor_password() -> std::io::Result<zeroize::Zeroizing<String>> {
    match std::env::var("PISHKHAN_SUPERVISOR_PASSWORD") {
        Ok(p) => Ok(zeroize::Zeroizing::new(p)),
        Err(_) => {
            let mut line = zeroize::Zeroizing::new(String::new());
            std::io::stdin().read_line(&mut line)?;
            Ok(zeroize::Zeroizing::new(
                line.trim_end_matches(['\r', '\n']).to_owned(),
            ))
        }
    }
}

fn receipt_save(
    data_dir: &std::path::Path,
    code: &str,
    out: &std::path::Path,
    supervisor: &str,
) -> ExitCode {
    let station = match open(data_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let password = match supervisor_password() {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let (copy, number) = match station.reprint_receipt(code, supervisor, &password) {
        Ok(found) => found,
        Err(e) => {
            eprintln!(
                "pishkhan: {}",
                I18n::new(station.config.language).text(&e.text())
            );
            return ExitCode::FAILURE;
        }
    };
    let mark = pishkhan::receipts::ReprintMark {
        number,
        at: chrono::Utc::now(),
    };
    if let Err(e) = pishkhan::receipts::save_pdf(&copy, Some(mark), out) {
        return fail(e);
    }
    println!(
        "reprint {number} of {} saved as {}",
        copy.tracking_code.grouped(),
        out.display()
    );
    ExitCode::SUCCESS
}

fn dashboard(data_dir: &std::path::Path, json: bool) -> ExitCode {
    let station = match open(data_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let counts = match station.counts() {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let disk = match station.disk() {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    if json {
        return print_json(&serde_json::json!({ "counts": counts, "disk": disk }));
    }
    println!("sealed today:        {}", counts.sealed_today);
    println!("waiting for upload:  {}", counts.waiting);
    println!("uploading:           {}", counts.uploading);
    println!(
        "acknowledged today:  {} ({} kept)",
        counts.acknowledged_today, counts.acknowledged_kept
    );
    println!("rejected:            {}", counts.rejected);
    println!("exported, not acknowledged: {}", counts.exported);
    println!(
        "drafts:              {} ({} held)",
        counts.drafts, counts.drafts_held
    );
    println!(
        "disk free:           {} MiB (reserve {} MiB){}",
        disk.free_bytes >> 20,
        disk.reserve_bytes >> 20,
        if disk.low() { "  LOW" } else { "" }
    );
    ExitCode::SUCCESS
}

fn audit(data_dir: &std::path::Path, command: AuditCommand) -> ExitCode {
    use pishkhan::store::audit;
    let station = match open(data_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let events = match station.with_db(audit::list) {
        Ok(events) => events,
        Err(e) => return fail(e),
    };
    match command {
        AuditCommand::List { json: true } => print_json(&events),
        AuditCommand::List { json: false } => {
            for e in &events {
                println!(
                    "{:>6} {} {} {} {} {}",
                    e.id,
                    e.at,
                    e.actor,
                    e.action,
                    e.subject.as_deref().unwrap_or("-"),
                    e.detail.as_deref().unwrap_or("")
                );
            }
            ExitCode::SUCCESS
        }
        AuditCommand::Verify { json } => {
            let result = audit::verify(&events, &station.verifying_key());
            match (&result, json) {
                (Ok(v), true) => {
                    print_json(&serde_json::json!({ "intact": true, "verified": v }));
                }
                (Err(b), true) => {
                    print_json(&serde_json::json!({
                        "intact": false, "broken_at": b.id, "reason": b.what
                    }));
                }
                (Ok(v), false) => println!(
                    "audit log intact: {} chained entries ({} from before the chain), head {}",
                    v.chained,
                    v.unchained,
                    v.head.as_deref().unwrap_or("-")
                ),
                (Err(b), false) => eprintln!("pishkhan: audit log BROKEN: {b}"),
            }
            if result.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn queue(data_dir: &std::path::Path, command: QueueCommand) -> ExitCode {
    let station = match open(data_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let identity = |path: &std::path::Path| {
        pishkhan::station::read_identity(path).map_err(|e| format!("{}: {e}", path.display()))
    };
    match command {
        QueueCommand::List { json } => {
            let entries = match station.with_db(outbox::list) {
                Ok(entries) => entries,
                Err(e) => return fail(e),
            };
            if json {
                return print_json(&entries);
            }
            match print_table(&mut std::io::stdout().lock(), &entries) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e),
            }
        }
        QueueCommand::Show { id, json } => {
            let entry = match station.with_db(|db| outbox::find(db, &id)) {
                Ok(entry) => entry,
                Err(e) => return fail(e),
            };
            let header = match station.with_db(|db| outbox::stored(db, &entry.id)) {
                Ok(outbox::Stored::V3(file)) => Some(file.header),
                Ok(outbox::Stored::V2 { .. }) => None,
                Err(e) => return fail(e),
            };
            if json {
                return print_json(&serde_json::json!({ "entry": entry, "header": header }));
            }
            println!("packet          {}", entry.id);
            println!(
                "tracking code   {}",
                entry.tracking_code.as_deref().unwrap_or("-")
            );
            println!("format          {}", entry.format);
            println!(
                "origin          {} (station {})",
                entry.origin, entry.station_id
            );
            println!("status          {}", entry.status);
            println!("test            {}", entry.test);
            println!("size            {} bytes", entry.size);
            println!("sha256          {}", entry.sha256);
            println!("sealed          {}", entry.created_at);
            println!("attempts        {}", entry.attempts);
            for (label, value) in [
                ("next attempt", &entry.next_attempt_at),
                ("last error", &entry.last_error),
                ("exported", &entry.exported_at),
                ("acknowledged", &entry.acknowledged_at),
                ("reject reason", &entry.reject_reason),
                ("dismissed", &entry.dismissed_at),
                ("dismissed by", &entry.dismissed_by),
                ("dismiss note", &entry.dismiss_note),
            ] {
                if let Some(value) = value {
                    println!("{label:<15} {value}");
                }
            }
            if let Some(header) = header {
                println!("station key     {}", header.station_key);
                println!("recipients      {}", header.recipients.join(", "));
                println!("demo            {}", header.demo);
            }
            ExitCode::SUCCESS
        }
        QueueCommand::Verify {
            id,
            identity: path,
            json,
        } => {
            let key = match path.as_deref().map(identity).transpose() {
                Ok(key) => key,
                Err(e) => return fail(e),
            };
            let entries = match &id {
                Some(id) => station.with_db(|db| outbox::find(db, id)).map(|e| vec![e]),
                None => station.with_db(outbox::list).map_err(Into::into),
            };
            let entries = match entries {
                Ok(entries) => entries,
                Err(e) => return fail(e),
            };
            let verdicts: Vec<_> = entries
                .iter()
                .map(|e| pishkhan::queue::verify(&station, e, key.as_ref()))
                .collect();
            let all_ok = verdicts.iter().all(|v| v.ok);
            if json {
                print_json(&verdicts);
            } else {
                for v in &verdicts {
                    println!(
                        "{}  {}  {}",
                        v.id,
                        if v.ok { "ok      " } else { "DAMAGED " },
                        v.detail
                    );
                }
                println!(
                    "{} packet(s), {} damaged",
                    verdicts.len(),
                    verdicts.iter().filter(|v| !v.ok).count()
                );
            }
            if all_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        QueueCommand::Export { to } => match pishkhan::queue::export(&station, &to) {
            Ok(report) => {
                println!(
                    "{} packet(s) written to {} with a signed index",
                    report.packets.len(),
                    report.dir.display()
                );
                for id in &report.skipped {
                    println!("{id}: format 2, leaves by upload only");
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        QueueCommand::Import { from } => match pishkhan::queue::import(&station, &from) {
            Ok(report) => {
                for id in &report.added {
                    println!("{id}  added");
                }
                for id in &report.already_queued {
                    println!("{id}  already queued");
                }
                for (id, reason) in &report.refused {
                    println!("{id}  REFUSED: {reason}");
                }
                println!(
                    "{} added, {} already queued, {} refused",
                    report.added.len(),
                    report.already_queued.len(),
                    report.refused.len()
                );
                if report.refused.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => fail(e),
        },
        QueueCommand::Resolve {
            id,
            requeue,
            dismiss: _,
            supervisor,
            note,
        } => {
            let resolution = if requeue {
                pishkhan::station::Resolution::Requeue
            } else {
                pishkhan::station::Resolution::Dismiss {
                    note: note.unwrap_or_default(),
                }
            };
            let password = match supervisor_password() {
                Ok(p) => p,
                Err(e) => return fail(e),
            };
            match station.resolve_rejected(&id, &resolution, &supervisor, &password) {
                Ok(entry) if requeue => {
                    println!("{}  queued again (was rejected)", entry.id);
                    ExitCode::SUCCESS
                }
                Ok(entry) => {
                    println!(
                        "{}  rejected, not to be sent (dismissed by {})",
                        entry.id,
                        entry.dismissed_by.as_deref().unwrap_or(&supervisor)
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!(
                        "pishkhan: {}",
                        I18n::new(station.config.language).text(&e.text())
                    );
                    ExitCode::FAILURE
                }
            }
        }
        QueueCommand::Open {
            id,
            identity: path,
            out,
        } => {
            let key = match identity(&path) {
                Ok(key) => key,
                Err(e) => return fail(e),
            };
            match pishkhan::queue::open_to_dir(&station, &id, &key, &out) {
                Ok(files) => {
                    for file in &files {
                        println!("{}", file.display());
                    }
                    println!("packet verified; {} file(s) written", files.len());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(fail)
}

fn upload(data_dir: &std::path::Path, until_empty: bool) -> ExitCode {
    let station = match open(data_dir) {
        Ok(s) => Arc::new(s),
        Err(code) => return code,
    };
    let uploader = match pishkhan::upload::Uploader::new(station.clone()) {
        Ok(u) => Arc::new(u),
        Err(e) => return fail(e),
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        if until_empty {
            match uploader.drain().await {
                Ok(done) => {
                    for sent in &done {
                        println!("{sent:?}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        } else {
            // The daemon keeps the office's appointment list fresh too.
            let config = station.config.upload.clone();
            match pishkhan::prereg::sync::Syncer::new(station, &config) {
                Ok(syncer) => {
                    let handle = pishkhan::prereg::sync::SyncHandle::default();
                    tokio::spawn(syncer.run(handle, Some(uploader.progress.clone())));
                }
                Err(e) => tracing::warn!("{e}"),
            }
            tokio::select! {
                () = uploader.run() => ExitCode::SUCCESS,
                _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
            }
        }
    })
}

fn intake(dir: &std::path::Path, command: IntakeCommand) -> ExitCode {
    let intake = match pishkhan::intake::Intake::open(dir) {
        Ok(i) => Arc::new(i),
        Err(e) => return fail(e),
    };
    match command {
        IntakeCommand::Key => {
            println!("{}", hex::encode(intake.verifying_key().as_bytes()));
            ExitCode::SUCCESS
        }
        IntakeCommand::Certificate => match intake.certificate_pem() {
            Ok(pem) => {
                print!("{pem}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        IntakeCommand::Import { from, json } => {
            let runtime = match runtime() {
                Ok(r) => r,
                Err(code) => return code,
            };
            match runtime.block_on(intake.import(&from)) {
                Ok(report) => {
                    if json {
                        println!(
                            "{}",
                            serde_json::to_string_pretty(&report).unwrap_or_default()
                        );
                    } else {
                        for id in &report.accepted {
                            println!("{id}  accepted");
                        }
                        for id in &report.already_received {
                            println!("{id}  already received");
                        }
                        for (id, why) in &report.rejected {
                            println!("{id}  REJECTED: {why}");
                        }
                        for (id, why) in &report.unreadable {
                            println!("{id}  UNREADABLE: {why}");
                        }
                        println!(
                            "{} accepted, {} already received, {} rejected, {} unreadable",
                            report.accepted.len(),
                            report.already_received.len(),
                            report.rejected.len(),
                            report.unreadable.len()
                        );
                    }
                    if report.rejected.is_empty() && report.unreadable.is_empty() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => fail(e),
            }
        }
        IntakeCommand::Resend { command } => match command {
            ResendCommand::Ask { packet, reason } => match intake.ask_resend(&packet, &reason) {
                Ok(request) => {
                    println!(
                        "{}: station {} will be asked to send it again ({})",
                        request.packet_id, request.station_id, request.reason
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            },
            ResendCommand::List { all, json } => match intake.resend_requests(None, !all) {
                Ok(requests) if json => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&requests).unwrap_or_default()
                    );
                    ExitCode::SUCCESS
                }
                Ok(requests) => {
                    for r in &requests {
                        println!(
                            "{}  {}  asked {}  {}  {}",
                            r.packet_id,
                            r.station_id,
                            r.requested_at,
                            r.fulfilled_at
                                .as_deref()
                                .map_or("open".to_owned(), |at| format!("received again {at}")),
                            r.reason
                        );
                    }
                    println!("{} request(s)", requests.len());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            },
        },
        IntakeCommand::Appointments { command } => intake_appointments(&intake, command),
        IntakeCommand::Visits { command } => intake_visits(&intake, command),
        IntakeCommand::CardStatus {
            tracking,
            stage,
            office,
        } => card_status(&intake, &tracking, stage, office.as_deref()),
        IntakeCommand::Register {
            from,
            station_dir,
            station_id,
            key,
            name,
            office,
        } => {
            let mut name = name;
            let mut office = office;
            let (id, key) = match (from, station_dir, station_id, key) {
                (Some(file), _, _, _) => match pishkhan::provision::Registration::read(&file) {
                    Ok((registration, key)) => {
                        name.get_or_insert(registration.name);
                        office.get_or_insert(registration.office);
                        (registration.station_id, key)
                    }
                    Err(e) => return fail(format!("{}: {e}", file.display())),
                },
                (None, Some(dir), _, _) => match Station::open(&dir) {
                    Ok(station) => (station.id.to_string(), station.verifying_key()),
                    Err(e) => return fail(e),
                },
                (None, None, Some(id), Some(key)) => {
                    let parsed = hex::decode(&key)
                        .ok()
                        .and_then(|b| <[u8; 32]>::try_from(b).ok())
                        .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok());
                    match parsed {
                        Some(k) => (id, k),
                        None => return fail(format!("{key:?} is not a hex Ed25519 public key")),
                    }
                }
                _ => return fail("give --from, --station-dir, or --station-id with --key"),
            };
            let name = name.unwrap_or_default();
            let registered = intake
                .register(&id, &key, &name)
                .and_then(|()| match &office {
                    Some(office) => intake.set_office(&id, Some(office)),
                    None => Ok(()),
                });
            match registered {
                Ok(()) => {
                    match &office {
                        Some(office) => println!("station {id} registered for office {office}"),
                        None => println!("station {id} registered"),
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        IntakeCommand::Serve { listen } => {
            let address = listen.unwrap_or_else(|| intake.config.listen.clone());
            let runtime = match runtime() {
                Ok(r) => r,
                Err(code) => return code,
            };
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::bind(&address).await {
                    Ok(l) => l,
                    Err(e) => return fail(format!("{address}: {e}")),
                };
                println!(
                    "intake listening on {}://{}{} (receipt key {})",
                    if intake.config.tls { "https" } else { "http" },
                    listener
                        .local_addr()
                        .map_or(address.clone(), |a| a.to_string()),
                    pishkhan::intake::FILES_PATH,
                    hex::encode(intake.verifying_key().as_bytes())
                );
                tokio::select! {
                    served = intake.serve(listener) => match served {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(e) => fail(e),
                    },
                    _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
                }
            })
        }
    }
}

fn intake_appointments(
    intake: &pishkhan::intake::Intake,
    command: AppointmentsCommand,
) -> ExitCode {
    match command {
        AppointmentsCommand::Import { file } => match intake.import_appointments(&file) {
            Ok(list) => {
                println!(
                    "{} appointment(s) of office {} imported",
                    list.appointments.len(),
                    list.office
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        AppointmentsCommand::List { office } => {
            let offices = match office {
                Some(office) => vec![office],
                None => match intake.appointment_offices() {
                    Ok(offices) => offices,
                    Err(e) => return fail(e),
                },
            };
            let consumed = match intake.consumed_appointments() {
                Ok(consumed) => consumed,
                Err(e) => return fail(e),
            };
            for office in &offices {
                let list = match intake.appointments(office) {
                    Ok(Some(list)) => list,
                    Ok(None) => return fail(format!("no appointment list for office {office}")),
                    Err(e) => return fail(e),
                };
                println!(
                    "office {}: {} appointment(s), generated {}",
                    list.office,
                    list.appointments.len(),
                    list.generated_at
                );
                for a in &list.appointments {
                    let state = consumed.get(&a.tracking_code).map_or_else(
                        || "open".to_owned(),
                        |c| format!("used by packet {} at {}", c.packet_id, c.consumed_at),
                    );
                    println!(
                        "  {}  {}  {:<20}  {state}",
                        a.tracking_code,
                        a.appointment_at,
                        request_type(a.request_type)
                    );
                }
            }
            ExitCode::SUCCESS
        }
    }
}

fn card_status(
    intake: &pishkhan::intake::Intake,
    tracking: &str,
    stage: CardStageArg,
    office: Option<&str>,
) -> ExitCode {
    use pishkhan::status::Stage;
    let Some(code) = pishkhan::enrolment::TrackingCode::parse(tracking) else {
        return fail(format!(
            "{tracking:?} is not a tracking code (16 digits, the last two checking the others)"
        ));
    };
    let stage = match stage {
        CardStageArg::InProduction => Stage::InProduction,
        CardStageArg::Ready => Stage::Ready,
        CardStageArg::HandedOver => Stage::HandedOver,
    };
    match intake.set_card_stage(&code, stage, office) {
        Ok(status) => {
            let at = status
                .office
                .map(|office| format!(" at {office}"))
                .unwrap_or_default();
            println!(
                "card {}: {}{at} (since {})",
                code.grouped(),
                status.stage,
                status.updated_at.to_rfc3339()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// What `pishkhan status` asks about.
enum StatusArgs {
    Tracking(String),
    /// National code, serial, birth date, as typed.
    Applicant(String, String, String),
}

fn applicant_status(
    data_dir: &std::path::Path,
    lang: Option<LangArg>,
    asked: Option<StatusArgs>,
    json: bool,
) -> ExitCode {
    use pishkhan::status::{self, Query, StatusError};
    let station = match open(data_dir) {
        Ok(s) => Arc::new(s),
        Err(code) => return code,
    };
    let i18n = pishkhan::i18n::I18n::new(lang.map_or(station.config.language, |l| match l {
        LangArg::Fa => Lang::Fa,
        LangArg::En => Lang::En,
    }));
    let failed = |e: &StatusError| {
        eprintln!("pishkhan: {}\n  ({e})", i18n.text(&e.text()));
        ExitCode::FAILURE
    };
    let query = match asked {
        None => None,
        Some(StatusArgs::Tracking(code)) => Some(Query::tracking(&code)),
        Some(StatusArgs::Applicant(national_code, serial, birth_date)) => {
            Some(Query::applicant(&national_code, &serial, &birth_date))
        }
    };
    let query = match query.transpose() {
        Ok(query) => query,
        Err(bad) => return failed(&StatusError::BadInput(bad)),
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let config = station.config.upload.clone();
    let Some(query) = query else {
        return match runtime.block_on(status::clock_skew(station, &config)) {
            Ok(skew) if json => print_json(&serde_json::json!({
                "skew_ms": skew.num_milliseconds()
            })),
            Ok(skew) => {
                let id = if skew < chrono::Duration::zero() {
                    "status-clock-behind"
                } else {
                    "status-clock-ahead"
                };
                let seconds = format!("{:.1}", skew.abs().num_milliseconds() as f64 / 1000.0);
                println!(
                    "{}",
                    i18n.text(&pishkhan::text::Text::new(id).arg("seconds", seconds))
                );
                ExitCode::SUCCESS
            }
            Err(e) => failed(&e),
        };
    };
    match runtime.block_on(status::lookup(station, &config, &query)) {
        Ok(found) if json => print_json(&found),
        Ok(found) => {
            let line = |id: &'static str, name: &'static str, value: String| {
                i18n.text(&pishkhan::text::Text::new(id).arg(name, value))
            };
            println!(
                "{}",
                line(
                    "status-applicant-tracking",
                    "code",
                    found.tracking_code.grouped()
                )
            );
            println!("{}", found.describe(&i18n));
            println!(
                "{}",
                line(
                    "status-applicant-updated",
                    "at",
                    ui::widget::local_time(&i18n, &found.updated_at.to_rfc3339())
                )
            );
            ExitCode::SUCCESS
        }
        Err(e) => failed(&e),
    }
}

fn request_type(kind: pishkhan::enrolment::RequestType) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn visits(data_dir: &std::path::Path, command: VisitsCommand) -> ExitCode {
    use pishkhan::field::{Location, Outcome, VisitRecord};
    let station = match open(data_dir) {
        Ok(s) => Arc::new(s),
        Err(code) => return code,
    };
    match command {
        VisitsCommand::Fetch => {
            let runtime = match runtime() {
                Ok(r) => r,
                Err(code) => return code,
            };
            let config = station.config.upload.clone();
            match runtime.block_on(pishkhan::field::sync::fetch(station, &config)) {
                Ok(list) => {
                    println!("team {}: {} visit(s) fetched", list.team, list.visits.len());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        VisitsCommand::List { today, json } => {
            let (list, fetched_at) = match station.visit_list() {
                Ok(Some(found)) => found,
                Ok(None) => {
                    return fail(pishkhan::field::station::FieldError::NoList(
                        station.team().unwrap_or_default().to_owned(),
                    ));
                }
                Err(e) => return fail(e),
            };
            let recorded = match station.recorded_visits() {
                Ok(r) => r,
                Err(e) => return fail(e),
            };
            let visits: Vec<&pishkhan::field::Visit> = if today {
                list.route(pishkhan::enrolment::JalaliDate::today())
            } else {
                list.visits.iter().collect()
            };
            let outcomes = |id: &str| -> Vec<&'static str> {
                recorded
                    .iter()
                    .filter(|r| r.visit_id == id)
                    .map(|r| r.outcome.code())
                    .collect()
            };
            if json {
                let rows: Vec<serde_json::Value> = visits
                    .iter()
                    .map(|v| serde_json::json!({"visit": v, "recorded": outcomes(&v.id)}))
                    .collect();
                print_json(&serde_json::json!({
                    "team": list.team,
                    "fetched_at": fetched_at,
                    "visits": rows,
                }));
            } else {
                println!("team {} (list fetched at {fetched_at})", list.team);
                for v in visits {
                    let needs: Vec<&str> = v.needs.iter().map(|n| n.text_id()).collect();
                    println!(
                        "{}  {}  #{}  {}  {}  {}  [{}]  {}",
                        v.id,
                        v.day,
                        v.order,
                        v.name(),
                        v.address,
                        v.phone.as_deref().unwrap_or("-"),
                        needs.join(" "),
                        outcomes(&v.id).join(", ")
                    );
                }
            }
            ExitCode::SUCCESS
        }
        VisitsCommand::Record {
            visit,
            outcome,
            operator,
            packet,
            day,
            location,
            gps,
            note,
        } => {
            let location = if gps {
                match station.gps_fix(VISIT_GPS_TIMEOUT) {
                    Ok(l) => Some(l),
                    Err(e) => return fail_located(&station, &e),
                }
            } else {
                match location.as_deref().map(Location::parse_manual).transpose() {
                    Ok(l) => l,
                    Err(e) => return fail(format!("--location: {e}")),
                }
            };
            let outcome = match outcome {
                OutcomeArg::Enrolled => Outcome::Enrolled,
                OutcomeArg::NotHome => Outcome::NotHome,
                OutcomeArg::Refused => Outcome::Refused,
                OutcomeArg::Rescheduled => Outcome::Rescheduled,
            };
            let record = VisitRecord {
                visit_id: visit,
                outcome,
                note,
                location,
                packet_id: packet,
                tracking_code: None,
                rescheduled_to: day,
            };
            match station.record_visit(&operator, record, false) {
                Ok(recorded) => {
                    println!(
                        "visit {} recorded as {}; record {} queued",
                        recorded.visit_id,
                        recorded.outcome.code(),
                        recorded.record_id
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

/// The longest `visits record --gps` waits for a fix.
const VISIT_GPS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Why no position was taken, in the station's language with the English
/// detail after it; exit 1.
fn fail_located(station: &Station, e: &pishkhan::field::locate::LocateError) -> ExitCode {
    let text = I18n::new(station.config.language).text(&e.text());
    eprintln!("pishkhan: {text}\n  ({e})");
    ExitCode::FAILURE
}

fn gps(data_dir: &std::path::Path, command: GpsCommand) -> ExitCode {
    let station = match open(data_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match command {
        GpsCommand::Fix { timeout, json } => {
            let location = match station.gps_fix(std::time::Duration::from_secs(timeout)) {
                Ok(l) => l,
                Err(e) => return fail_located(&station, &e),
            };
            if json {
                return print_json(&location);
            }
            let pishkhan::field::LocationSource::Gps {
                satellites,
                hdop,
                fixed_at,
            } = &location.source
            else {
                return fail("the GPS receiver gave a position that is not a GPS fix");
            };
            let hemisphere = |v: f64, pos: char, neg: char| {
                format!("{:.6} {}", v.abs(), if v < 0.0 { neg } else { pos })
            };
            println!(
                "{} {}  satellites {}  HDOP {}  at {fixed_at}",
                hemisphere(location.latitude, 'N', 'S'),
                hemisphere(location.longitude, 'E', 'W'),
                satellites.map_or("-".into(), |n| n.to_string()),
                hdop.map_or("-".into(), |h| format!("{h:.1}")),
            );
            ExitCode::SUCCESS
        }
    }
}

fn intake_visits(intake: &pishkhan::intake::Intake, command: VisitListsCommand) -> ExitCode {
    match command {
        VisitListsCommand::Import { file } => match intake.import_visits(&file) {
            Ok(list) => {
                println!(
                    "team {} (office {}): {} visit(s) imported",
                    list.team,
                    list.office,
                    list.visits.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        VisitListsCommand::Records { team } => match intake.field_records(team.as_deref()) {
            Ok(records) => {
                for r in records {
                    match serde_json::to_string(&r) {
                        Ok(line) => println!("{line}"),
                        Err(e) => return fail(e),
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
    }
}

fn prereg(data_dir: &std::path::Path, command: PreregCommand) -> ExitCode {
    use pishkhan::prereg::cache::{self, Found};
    let station = match open(data_dir) {
        Ok(s) => Arc::new(s),
        Err(code) => return code,
    };
    let office = station.config.station.office.clone();
    let line = |found: &Found| {
        let a = found.appointment();
        let state = match found {
            Found::Open { .. } => "open".to_owned(),
            Found::Consumed { by, .. } => format!("used by packet {} at {}", by.packet_id, by.at),
        };
        format!(
            "{}  {}  {}  {} {}  {}  {}",
            a.tracking_code,
            a.appointment_at,
            a.national_code,
            a.first_name,
            a.last_name,
            request_type(a.request_type),
            state
        )
    };
    match command {
        PreregCommand::Sync => {
            let runtime = match runtime() {
                Ok(r) => r,
                Err(code) => return code,
            };
            let config = station.config.upload.clone();
            match runtime.block_on(pishkhan::prereg::sync::sync_once(station, &config)) {
                Ok(synced) => {
                    println!(
                        "office {}: {} appointment(s) synced at {}",
                        synced.office, synced.appointments, synced.fetched_at
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        PreregCommand::Find { query, json } => {
            let key = station.prereg_key();
            let found = match station.with_db(|db| cache::find(db, &key, &office, &query)) {
                Ok(found) => found,
                Err(e) => return fail(e),
            };
            if json {
                print_json(&found);
            } else {
                for f in &found {
                    println!("{}", line(f));
                }
            }
            if found.is_empty() {
                let synced = station.with_db(|db| cache::fetched_at(db, &office));
                eprintln!(
                    "pishkhan: no appointment of office {office} matches {query:?} ({})",
                    match synced {
                        Ok(Some(at)) => format!("list synced at {at}"),
                        Ok(None) => "no list synced yet: pishkhan prereg sync".to_owned(),
                        Err(e) => e.to_string(),
                    }
                );
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        PreregCommand::List { json } => {
            let key = station.prereg_key();
            let listed = match station.with_db(|db| cache::list(db, &key, &office)) {
                Ok(Some(listed)) => listed,
                Ok(None) => {
                    return fail(format!(
                        "no appointment list of office {office} synced yet: pishkhan prereg sync"
                    ));
                }
                Err(e) => return fail(e),
            };
            let (found, fetched_at) = listed;
            if json {
                return print_json(&serde_json::json!({
                    "office": office,
                    "fetched_at": fetched_at,
                    "appointments": found,
                }));
            }
            println!(
                "office {office}: {} appointment(s), synced at {fetched_at}",
                found.len()
            );
            for f in &found {
                println!("{}", line(f));
            }
            ExitCode::SUCCESS
        }
    }
}

fn an2k(command: An2kCommand) -> ExitCode {
    let (An2kCommand::Dump { file } | An2kCommand::Check { file }) = &command;
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) => return fail(format!("{}: {e}", file.display())),
    };
    let transaction = match pishkhan_an2k::decode(&bytes) {
        Ok(t) => t,
        Err(e) => return fail(format!("{}: {e}", file.display())),
    };
    match command {
        An2kCommand::Dump { .. } => {
            print!("{}", pishkhan_an2k::dump(&transaction));
            ExitCode::SUCCESS
        }
        An2kCommand::Check { file } => {
            let mut problems = pishkhan_an2k::problems(&transaction);
            problems.extend(pishkhan::packet::type2::problems(&transaction));
            for p in &problems {
                println!("{}: {p}", file.display());
            }
            if problems.is_empty() {
                println!(
                    "{}: ok ({} records)",
                    file.display(),
                    transaction.records.len()
                );
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn print_table(out: &mut impl std::io::Write, entries: &[outbox::Entry]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<36}  {:<16}  {:<12}  {:>9}  {:<5}  {:>8}  created",
        "id", "tracking code", "status", "bytes", "test", "attempts"
    )?;
    for e in entries {
        writeln!(
            out,
            "{:<36}  {:<16}  {:<12}  {:>9}  {:<5}  {:>8}  {}{}",
            e.id,
            e.tracking_code.as_deref().unwrap_or("(imported)"),
            if e.dismissed_at.is_some() {
                "dismissed"
            } else {
                e.status.as_str()
            },
            e.size,
            e.test,
            e.attempts,
            e.created_at,
            if e.exported_at.is_some() {
                "  exported"
            } else {
                ""
            }
        )?;
    }
    writeln!(out, "{} packet(s)", entries.len())
}

fn self_test(data_dir: &std::path::Path, count: u32, seal_only: bool) -> ExitCode {
    let station = match open(data_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let devices = Devices::from_config(&station.config);
    println!(
        "self-test: station {:04}{}, camera {:?}, scanner {}",
        station.number,
        if station.demo {
            " (DEMO authority key)"
        } else {
            ""
        },
        devices.camera,
        devices.scanner.info().name
    );
    let started = std::time::Instant::now();
    let captured = if seal_only {
        match selftest::capture(&station, &devices) {
            Ok((session, _)) => Some(session),
            Err(e) => return fail(format!("the enrolment to seal FAILED: {e}")),
        }
    } else {
        None
    };
    for n in 1..=count {
        let outcome = match &captured {
            Some(session) => {
                let mut session = session.clone();
                session.id = uuid::Uuid::now_v7();
                let sealing = std::time::Instant::now();
                station
                    .seal(&session)
                    .map(|receipt| selftest::Report {
                        receipt,
                        steps: vec![("seal", sealing.elapsed())],
                    })
                    .map_err(selftest::SelfTestError::from)
            }
            None => selftest::run_once(&station, &devices),
        };
        match outcome {
            Ok(report) => {
                let steps: Vec<String> = report
                    .steps
                    .iter()
                    .map(|(name, d)| format!("{name} {:.0} ms", d.as_secs_f64() * 1000.0))
                    .collect();
                println!(
                    "enrolment {n}/{count}: sealed {} ({} bytes): {}",
                    report.receipt.tracking_code.grouped(),
                    report.receipt.size,
                    steps.join(", ")
                );
            }
            Err(e) => {
                eprintln!("enrolment {n}/{count} FAILED: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!(
        "self-test passed: {count} enrolment(s) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

fn devices(
    json: bool,
    virtuals: &[VirtualArg],
    capture: Option<&std::path::Path>,
    baud: u32,
) -> ExitCode {
    use pishkhan::inventory;

    #[cfg(unix)]
    let zfm_module = if virtuals.contains(&VirtualArg::Zfm) {
        match pishkhan_zfm::VirtualModule::start(
            pishkhan::devices::VIRTUAL_IDENTITY,
            pishkhan_zfm::Knobs::default(),
        ) {
            Ok(m) => Some(m),
            Err(e) => {
                eprintln!("pishkhan: cannot start the virtual ZhianTec module: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    #[cfg(unix)]
    let virtual_ports: Vec<String> = zfm_module
        .iter()
        .map(pishkhan_zfm::VirtualModule::path)
        .collect();
    #[cfg(not(unix))]
    let virtual_ports: Vec<String> = Vec::new();

    let sbi_service = if virtuals.contains(&VirtualArg::Sbi) {
        match pishkhan::devices::start_virtual_sbi(std::time::Duration::from_millis(200)) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("pishkhan: cannot start the virtual SBI service: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };

    let inventory = inventory::Inventory {
        serial_ports: inventory::serial_ports(&virtual_ports, baud),
        sbi_services: inventory::sbi_services(
            sbi_service.as_ref().map(pishkhan_sbi::VirtualSbi::port),
        ),
        cameras: inventory::cameras(),
    };
    let timeout = std::time::Duration::from_secs(30);
    let test = capture.map(|png| {
        let port = inventory
            .serial_ports
            .iter()
            .find(|p| p.module.is_some())
            .map(|p| p.path.clone());
        if let Some(port) = port {
            return pishkhan_zfm::open(&port, baud)
                .map_err(|e| e.to_string())
                .and_then(|mut s| inventory::test_capture(&mut s, png, timeout));
        }
        let Some(sbi) = inventory.sbi_services.first() else {
            return Err("no scanner answered".to_owned());
        };
        // Only the virtual service's key is known here; a vendor service
        // needs its key in the station configuration (sbi_trusted_keys).
        let trust = sbi_service
            .as_ref()
            .filter(|s| s.port() == sbi.port)
            .map(pishkhan_sbi::VirtualSbi::trust_store)
            .unwrap_or_default();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], sbi.port));
        pishkhan_sbi::SbiScanner::connect(addr, trust)
            .map_err(|e| e.to_string())
            .and_then(|mut s| inventory::test_capture(&mut s, png, timeout))
    });

    let mut out = std::io::stdout().lock();
    let written = if json {
        let mut doc = serde_json::to_value(&inventory).unwrap_or_default();
        if let Some(test) = &test {
            doc["capture"] = match test {
                Ok(t) => serde_json::to_value(t).unwrap_or_default(),
                Err(e) => serde_json::json!({ "error": e }),
            };
        }
        serde_json::to_writer_pretty(&mut out, &doc)
            .map_err(std::io::Error::from)
            .and_then(|()| std::io::Write::write_all(&mut out, b"\n"))
    } else {
        print_devices(&mut out, &inventory, test.as_ref())
    };
    if let Err(e) = written {
        eprintln!("pishkhan: {e}");
        return ExitCode::FAILURE;
    }
    match test {
        Some(Err(_)) => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    }
}

fn print_devices(
    out: &mut impl std::io::Write,
    inventory: &pishkhan::inventory::Inventory,
    test: Option<&Result<pishkhan::inventory::TestCapture, String>>,
) -> std::io::Result<()> {
    writeln!(out, "Serial ports:")?;
    if inventory.serial_ports.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for p in &inventory.serial_ports {
        let usb = match (&p.vid, &p.pid) {
            (Some(v), Some(d)) => format!(" USB {v}:{d}"),
            _ => String::new(),
        };
        let what = [
            p.bridge.as_deref(),
            p.manufacturer.as_deref(),
            p.product.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        writeln!(out, "  {} [{}{usb}] {what}", p.path, p.kind)?;
        match (&p.module, &p.error) {
            (Some(m), _) => writeln!(
                out,
                "      ZhianTec module: system id {}, address {}, {} bytes per packet, {} baud",
                m.system_id, m.address, m.packet_size, m.baud
            )?,
            (None, Some(e)) => writeln!(out, "      no module: {e}")?,
            (None, None) => writeln!(out, "      not probed (not a known USB-serial bridge)")?,
        }
    }
    writeln!(out, "SBI services on 127.0.0.1:4501-4600:")?;
    if inventory.sbi_services.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for s in &inventory.sbi_services {
        writeln!(
            out,
            "  port {}: {} (SBI {}, {}), sub-ids {:?}{}",
            s.port,
            s.device_id,
            s.spec_version,
            s.status,
            s.device_sub_ids,
            if s.is_virtual { ", virtual" } else { "" }
        )?;
    }
    writeln!(out, "Cameras:")?;
    for c in &inventory.cameras {
        writeln!(out, "  [{}] {}: {}", c.setting, c.name, c.description)?;
        if let Some(chosen) = &c.chosen {
            writeln!(out, "      uses {chosen} (of {} modes)", c.formats.len())?;
        }
    }
    match test {
        Some(Ok(t)) => writeln!(
            out,
            "Test capture with {}: {} finger(s), {}x{}, saved to {}",
            t.device, t.fingers, t.width, t.height, t.file
        )?,
        Some(Err(e)) => writeln!(out, "Test capture failed: {e}")?,
        None => {}
    }
    Ok(())
}
