//! UKE receipt files (レセプト電算処理システム, DOMAIN §4): Shift_JIS CSV records
//! IR, RE, HO, KO, SN, …, GO.

mod details;
pub mod layout;
pub mod model;
mod reader;
pub mod writer;

pub use layout::ReceiptKind;
pub use model::*;
pub use reader::{
    parse_uke, read_uke_file, read_uke_files, reparse_receipts, ByteSpan, QuarantinedReceipt,
    ReceiptAt, UkeFile,
};
