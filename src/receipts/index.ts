/**
 * Exposure receipts: what each session fetched (albums, photos, originals, addresses, when), kept
 * for a while after it ends, and how the admin reads them.
 */
export { createReceiptRecorder, type ReceiptRecorder } from './recorder.js';
export { receiptLines, receiptSentence, receiptTotals, when } from './summary.js';
