//! The `pishkhan` command: the station window by default, and subcommands
//! for headless work.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use pishkhan::devices::Devices;
use pishkhan::enrolment::Step;
use pishkhan::i18n::Lang;
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
enum Command {
    /// The outbox of sealed packets.
    Queue {
        #[command(subcommand)]
        command: QueueCommand,
    },
    /// Runs complete enrolments of a built-in test applicant through the
    /// attached (or virtual) devices and seals them as test packets.
    SelfTest {
        /// How many enrolments to run.
        #[arg(long, default_value_t = 1)]
        count: u32,
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
        Some(Command::Queue {
            command: QueueCommand::List { json },
        }) => queue_list(&data_dir, json),
        Some(Command::SelfTest { count }) => self_test(&data_dir, count),
    }
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
    let start = ui::app::Start {
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

fn queue_list(data_dir: &std::path::Path, json: bool) -> ExitCode {
    let station = match open(data_dir) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let entries = match station.with_db(outbox::list) {
        Ok(entries) => entries,
        Err(e) => {
            eprintln!("pishkhan: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let written = if json {
        serde_json::to_writer_pretty(&mut out, &entries)
            .map_err(std::io::Error::from)
            .and_then(|()| std::io::Write::write_all(&mut out, b"\n"))
    } else {
        print_table(&mut out, &entries)
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pishkhan: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_table(out: &mut impl std::io::Write, entries: &[outbox::Entry]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<36}  {:<16}  {:<12}  {:>9}  {:<5}  created",
        "id", "tracking code", "status", "bytes", "test"
    )?;
    for e in entries {
        writeln!(
            out,
            "{:<36}  {:<16}  {:<12}  {:>9}  {:<5}  {}",
            e.id, e.tracking_code, e.status, e.size, e.test, e.created_at
        )?;
    }
    writeln!(out, "{} packet(s)", entries.len())
}

fn self_test(data_dir: &std::path::Path, count: u32) -> ExitCode {
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
    for n in 1..=count {
        match selftest::run_once(&station, &devices) {
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
