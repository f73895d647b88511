//! (being written)
pub struct UkeFile;
pub struct QuarantinedReceipt;
pub fn parse_uke() {}
pub fn read_uke_file() {}
