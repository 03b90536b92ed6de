/**
 * Phishing and impersonation signals of a domain scan → labels, summary rows and Indicator reasons.
 *
 * Labels are set only for findings that are present (a "Safe" credential form or zero suspicious
 * files gives no label) and never carry counts. Criminal IP's `phishing_record` is shown but gives
 * no label: google.com itself has one.
 */
import type { PhishingSignals } from './domain-facts';
import { mdTable, mdText, type SummarySection } from './markdown';

/** XSOAR's and Criminal IP's own cut-off for a DGA-looking name (dga_score runs 0-10). */
export const DGA_THRESHOLD = 8;

const RISKY_VERDICTS = new Set(['suspicious', 'dangerous', 'malicious', 'critical']);

function risky(verdict: string | undefined): boolean {
  return verdict !== undefined && RISKY_VERDICTS.has(verdict.toLowerCase());
}

export interface PhishingFindings {
  labels: string[];
  facts: Array<[string, string]>;
  indicatorReasons: string[];
  section?: SummarySection;
}

export function phishingFindings(s: PhishingSignals, phishingThreshold: number): PhishingFindings {
  const labels: string[] = [];
  const facts: Array<[string, string]> = [];
  const indicatorReasons: string[] = [];
  const rows: string[][] = [];
  const row = (name: string, value: string | number | boolean | undefined) => {
    if (value !== undefined && value !== '') rows.push([name, mdText(String(value))]);
  };

  const prob = s.phishingProbability;
  if (prob !== undefined) {
    facts.push(['Phishing probability', `${prob}%`]);
    if (prob >= phishingThreshold) {
      labels.push('phishing');
      indicatorReasons.push(`phishing probability ${prob}% (phishing threshold ${phishingThreshold}%)`);
    }
  }
  if (risky(s.credentialInput)) labels.push('credential harvesting');
  if ((s.suspiciousFiles ?? 0) > 0) labels.push('suspicious file');
  if (risky(s.faviconCheck)) labels.push('favicon mismatch');
  if (s.fakeDomain === true) labels.push('look-alike domain');
  if (s.domainInSubdomain === true) labels.push('domain in subdomain');
  if (s.punycode === true) labels.push('punycode');
  if (s.fakeHttps === true) labels.push('fake https');
  if (s.newbornDomain) labels.push('newborn domain');
  if ((s.dgaScore ?? 0) >= DGA_THRESHOLD) labels.push('dga');
  if (s.invalidCertificate === true) labels.push('invalid certificate');
  if (s.safeBrowsing.length > 0) labels.push('safe browsing hit');
  if (s.exposedFiles.length > 0) labels.push('file exposure');

  row('Credential input form', s.credentialInput);
  row('Suspicious files', s.suspiciousFiles);
  row('Favicon domain check', s.faviconCheck);
  row('Look-alike of a known domain', s.fakeDomain);
  row('Known domain inside a subdomain', s.domainInSubdomain);
  row('Punycode', s.punycode);
  row('Fake https in URL', s.fakeHttps);
  row('@ in URL', s.symbolUrl);
  row('Newborn domain (created)', s.newbornDomain);
  row('DGA score (0-10)', s.dgaScore);
  row('Invalid certificate', s.invalidCertificate ? (s.certificateProblem ?? true) : s.invalidCertificate);
  row('Phishing records', s.phishingRecords);
  row(
    'Connected IPs rated critical / dangerous',
    s.abuseCritical !== undefined || s.abuseDangerous !== undefined
      ? `${s.abuseCritical ?? 0} / ${s.abuseDangerous ?? 0}`
      : undefined,
  );
  row('Obfuscated scripts', s.obfuscatedScripts);
  row('Hidden iframes', s.hiddenIframes);
  row('Google Safe Browsing', s.safeBrowsing.join(', '));
  row('Exposed files', s.exposedFiles.join(', '));

  return {
    labels,
    facts,
    indicatorReasons,
    section:
      rows.length > 0
        ? { title: 'Phishing and impersonation checks', body: mdTable(['Check', 'Result'], rows) }
        : undefined,
  };
}
