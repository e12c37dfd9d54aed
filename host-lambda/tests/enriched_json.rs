//! The enriched records' typed part on generated traffic (`cflog gen`'s 46-field real-time
//! lines and its standard logs): the `RecordWriter` the handler uses (its column plan, the
//! cache of repeating values, the plain-text windows) writes, line after line, exactly what
//! the general `write_record_with` writes, with the handler's options and the others.

use cflog_core::json::{JsonOptions, RecordWriter, write_record_with};
use cflog_core::{Field, Format, Parser, RecordBuf, Schema};

fn check(format: Format, schema: Schema, lines: u64, seed: u64) {
    let opts = cflog_gen::GenOptions { format, lines, seed, ..Default::default() };
    let mut text = Vec::new();
    cflog_gen::generate(&opts, &mut text).unwrap();
    for options in [
        JsonOptions::default().omit_absent(true),
        JsonOptions::default().omit_absent(true).anonymize_ip(true),
        JsonOptions::default(),
        JsonOptions::default().anonymize_ip(true),
    ] {
        let mut writer = RecordWriter::new(&schema, options);
        let mut parser = Parser::realtime(schema.clone());
        let mut buf = RecordBuf::new();
        let (mut written, mut records) = (0, 0);
        for (n, line) in text.split(|&b| b == b'\n').enumerate() {
            let Ok(Some(record)) = parser.parse_line(line, &mut buf) else { continue };
            records += 1;
            let (mut want, mut got) = (Vec::new(), Vec::new());
            let want_result = write_record_with(&record, options, &mut want);
            let got_result = writer.write(&record, &mut got);
            assert_eq!(got_result, want_result, "line {}", n + 1);
            assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want), "line {}, {options:?}", n + 1);
            written += usize::from(want_result.is_ok());
        }
        // Generated lines are valid: every one was written, none fell back on an error.
        assert!(records as u64 >= lines && written == records, "{written} of {records} records written");
    }
}

#[test]
fn realtime_lines_are_written_as_write_record_with_writes_them() {
    check(Format::RealTime, Schema::realtime_release(46).unwrap(), 3_000, 3);
}

#[test]
fn standard_lines_are_written_as_write_record_with_writes_them() {
    check(Format::Standard, Schema::standard_default(), 1_000, 5);
}

#[test]
fn the_handler_layout_has_every_field_at_its_own_column() {
    // The plan is taken only for such layouts; the handler's default layout is one.
    let schema = Schema::realtime_release(46).unwrap();
    assert!(schema.columns().iter().enumerate().all(|(i, c)| c.field.is_none_or(|f| schema.column_of(f) == Some(i))));
    assert!(schema.has(Field::Headers));
}
