/** The etag a request sent, or undefined when it sent none: proto3 has no absent string, so "". */
export function sentEtag(etag: string): string | undefined {
  return etag === "" ? undefined : etag;
}
