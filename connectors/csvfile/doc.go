// Package csvfile is the payroll file sink: it exports each payroll period
// (a month, or half a month) of day records as one CSV file (UTF-8, with a
// byte-order mark by default so that Excel opens Chinese names correctly)
// and, if asked, one XLSX workbook, with the columns a mapping gives.
//
// A period's file is written once, when the period closes: close_after
// after its last day ends, in the sink's time zone. Until then the sink
// keeps the latest version of each day record in an append-only state
// file under the directory's .punchbridge folder. A record for a period
// already exported is a correction: it goes into that period's
// adjustments file of the day (attendance-2026-11-adjustments-2026-12-05),
// and the closed period's file is never rewritten. Every file is written
// whole to a temporary file and renamed into place, so a reader never sees
// half a file. Files are written by Flush, which the push calls after
// delivering everything due: a closed period's file, so that all the
// records a push brings for it go into it, and each adjustments file the
// push added corrections to, once, however many batches (DeliverBatch)
// brought them. Names are deterministic:
//
//	attendance-2026-11.csv
//	attendance-2026-11.xlsx
//	attendance-2026-11-adjustments-2026-12-05.csv
//	attendance-2026-11-01_15.csv            (period: half_month)
//
// A sink in the config:
//
//	sinks:
//	  - name: payroll
//	    type: csvfile
//	    dir: /srv/payroll/out
//	    mapping: preset:csv-payroll    # or a mapping file: the columns
//	    timezone: Asia/Shanghai
//	    period: month                  # or half_month
//	    close_after: 72h
//	    formats: [csv, xlsx]
//	    bom: true
//
// One sink writes one directory; replicas must not share it.
package csvfile
