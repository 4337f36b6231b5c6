//! The library's error type. Variants carry the context an operator needs to fix the
//! problem (which file, which field, which flag); `main` prints the chain on one line and
//! maps [`Error::exit_code`] to the process status.

use std::path::PathBuf;

/// Everything that can stop a kuzet run.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A capture file could not be opened, validated, read or written.
    #[error("{}: {problem}", path.display())]
    Capture {
        /// The file in question.
        path: PathBuf,
        /// What is wrong with it.
        problem: CaptureProblem,
    },
    /// A scenario (synth) or band-plan file is invalid.
    #[error("{}: {msg}", path.display())]
    InvalidFile {
        /// The file in question.
        path: PathBuf,
        /// What is wrong, with the line where known.
        msg: String,
    },
    /// Reading or writing a plain file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file in question.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A flag or setting has an invalid value; the message names it.
    #[error("{0}")]
    Config(String),
    /// A library setting is out of range. `field` is its name in the library's types
    /// (`fft_len`, `pfa`); the settings layer turns it into the flag the operator gave.
    #[error("{field} {why}")]
    Invalid {
        /// The setting.
        field: &'static str,
        /// What is wrong, with the value (`must be at least 1, got 0`).
        why: String,
    },
    /// A pipeline stage panicked; the run cannot continue.
    #[error("pipeline stage `{0}` panicked")]
    StagePanicked(&'static str),
    /// Writing alerts to their sink failed (stdout closed, disk full).
    #[error("writing alerts: {0}")]
    AlertSink(#[source] std::io::Error),
    /// A radio could not be found, opened or configured as asked: unknown driver, a
    /// setting outside the device's ranges. The operator's arguments need fixing.
    #[error("{args}: {msg}")]
    Device {
        /// The device arguments as given (`driver=rtlsdr,serial=…`).
        args: String,
        /// What went wrong, in the operator's terms.
        msg: String,
    },
    /// A radio that was opened failed while streaming and could not be recovered.
    #[error("{args}: {msg}")]
    DeviceFailed {
        /// The device arguments as given.
        args: String,
        /// What went wrong.
        msg: String,
    },
    /// A recording stopped before its end (a full disk); what was flushed is kept.
    #[error("recording stopped: {0}")]
    RecordingStopped(String),
    /// The console could not set up, draw on or restore the terminal.
    #[error("terminal: {0}")]
    Terminal(#[source] std::io::Error),
}

/// What is wrong with a capture file.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum CaptureProblem {
    /// The file does not exist.
    #[error("no such file")]
    NotFound,
    /// The file exists but is not HDF5.
    #[error("not an HDF5 file")]
    NotHdf5,
    /// A required dataset is absent.
    #[error("no `/{0}` dataset (is this a kuzet capture?)")]
    MissingDataset(&'static str),
    /// A dataset has a type or shape kuzet cannot read as IQ.
    #[error("`/{dataset}` is {found}; expected {expected}")]
    WrongType {
        /// Dataset name.
        dataset: &'static str,
        /// What the file holds.
        found: String,
        /// What kuzet reads.
        expected: &'static str,
    },
    /// A root attribute is missing or out of range.
    #[error("attribute `{name}` {why}")]
    BadAttribute {
        /// Attribute name.
        name: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// The file points outside itself (an external link, external raw storage, a virtual
    /// dataset): kuzet reads only bytes stored in the file it was given, so that a crafted
    /// file cannot make it copy another file (a secret, `/dev/zero`) into its output.
    #[error("{0}; kuzet reads only data stored in the file itself")]
    Outside(String),
    /// The capture holds no samples.
    #[error("the capture holds no samples")]
    Empty,
    /// A header or metadata field is missing, malformed or contradicts the data.
    #[error("{field} {why}")]
    BadField {
        /// The field (`core:datatype`, `fmt chunk`, `file name`, ...).
        field: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// The sample rate is in neither the file nor its name, and no flag gave it.
    #[error(
        "sample rate unknown: give --rate (e.g. --rate 2.4M) or name the file in the \
         rtl_433 style (g001_433.92M_250k.cu8)"
    )]
    UnknownRate,
    /// The file's format cannot be told from its name or content.
    #[error(
        "unknown capture format (expected .h5, .sigmf-meta/.sigmf-data/.sigmf, .wav, \
         .cu8, .cs8, .cs16, .cf32, .cfile, .raw; or give --iq-format)"
    )]
    UnknownFormat,
    /// The file holds real (not complex IQ) samples or more channels than kuzet reads.
    #[error("not a complex IQ recording: {0}")]
    NotIq(String),
    /// The file ends before the data its header announces.
    #[error("truncated: {0}")]
    Truncated(String),
    /// The SigMF metadata is not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The HDF5 library reported an error.
    #[error("HDF5: {0}")]
    Hdf5(#[from] hdf5::Error),
    /// An operating-system error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// Builds a [`Error::Capture`].
    pub fn capture(path: impl Into<PathBuf>, problem: impl Into<CaptureProblem>) -> Self {
        Error::Capture {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// A [`Error::Invalid`] for `field`.
    pub fn invalid(field: &'static str, why: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            why: why.into(),
        }
    }

    /// Process exit status: 2 for bad input (file, flag, setting, a path the operator
    /// gave that does not exist or cannot be used), 1 for failures at run time.
    pub fn exit_code(&self) -> u8 {
        use std::io::ErrorKind as K;
        match self {
            Error::Io { source, .. }
                if matches!(
                    source.kind(),
                    K::NotFound
                        | K::PermissionDenied
                        | K::AlreadyExists
                        | K::InvalidInput
                        | K::NotADirectory
                        | K::IsADirectory
                ) =>
            {
                2
            }
            Error::Capture { .. }
            | Error::InvalidFile { .. }
            | Error::Config(_)
            | Error::Invalid { .. }
            | Error::RecordingStopped(_)
            | Error::Device { .. } => 2,
            Error::Io { .. }
            | Error::StagePanicked(_)
            | Error::AlertSink(_)
            | Error::DeviceFailed { .. }
            | Error::Terminal(_) => 1,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
