//! Reading a body within its limit.

use bytes::{Bytes, BytesMut};
use reqwest::header::CONTENT_LENGTH;

use crate::error::Result;

/// Reads a body up to `limit` bytes. Returns the bytes and whether the body was longer: a
/// longer body is read no further than the limit. A body in one chunk is not copied; any
/// other is copied once, into a buffer of exactly its length, so that nothing but the body
/// stays allocated while it is decoded.
///
/// A declared length over the limit ends the read at once, unless `keep_prefix` (error
/// bodies: their first `limit` bytes still carry the server's message). A body reqwest
/// decompresses has no declared length (reqwest drops `Content-Length` with the encoding), so
/// the limit applies to the decompressed bytes as they come.
pub(super) async fn read_body(
    response: &mut reqwest::Response,
    limit: usize,
    keep_prefix: bool,
) -> Result<(Bytes, bool), reqwest::Error> {
    // The whole length, read before any chunk: `content_length()` tells only what is still to
    // come (sizing the buffer from it after two chunks once made it short, and doubled).
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .or_else(|| response.content_length());
    if !keep_prefix && declared.is_some_and(|len| len > limit as u64) {
        return Ok((Bytes::new(), true));
    }
    let Some(first) = response.chunk().await? else {
        return Ok((Bytes::new(), false));
    };
    if first.len() > limit {
        return Ok((first.slice(..limit), true));
    }
    let Some(second) = response.chunk().await? else {
        return Ok((first, false));
    };
    if let Some(len) = declared {
        // The length is known (and at most the limit, or only a prefix is kept): one buffer of
        // that size, filled as the chunks come.
        let capacity = (len.min(limit as u64) as usize).max((first.len() + second.len()).min(limit));
        let mut buf = BytesMut::with_capacity(capacity);
        buf.extend_from_slice(&first);
        let mut next = Some(second);
        while let Some(chunk) = next {
            if buf.len() + chunk.len() > limit {
                let room = limit - buf.len();
                buf.extend_from_slice(&chunk[..room]);
                return Ok((buf.freeze(), true));
            }
            buf.extend_from_slice(&chunk);
            next = response.chunk().await?;
        }
        return Ok((buf.freeze(), false));
    }
    // Unknown length (chunked, or decompressed): keep the chunks, then copy them once into a
    // buffer of the exact total. Growing one buffer instead would leave up to half of it
    // unused, and allocated, while the body is decoded. Small chunks are gathered as they
    // come, so a server that sends its body a few bytes at a time cannot make the list of
    // chunks outgrow the body.
    const SMALL: usize = 16 * 1024;
    let mut parts: Vec<Bytes> = Vec::new();
    let mut small = BytesMut::new();
    let mut total = 0;
    let mut truncated = false;
    let mut next = Some(first);
    let mut then = Some(second);
    while let Some(mut chunk) = next {
        if total + chunk.len() > limit {
            chunk = chunk.slice(..limit - total);
            truncated = true;
        }
        total += chunk.len();
        if chunk.len() < SMALL {
            small.extend_from_slice(&chunk);
            if small.len() >= 4 * SMALL {
                parts.push(small.split().freeze());
            }
        } else {
            if !small.is_empty() {
                parts.push(small.split().freeze());
            }
            parts.push(chunk);
        }
        if truncated {
            break;
        }
        next = match then.take() {
            Some(chunk) => Some(chunk),
            None => response.chunk().await?,
        };
    }
    if truncated && !keep_prefix {
        // Too large, and nothing of it is kept.
        return Ok((Bytes::new(), true));
    }
    if !small.is_empty() {
        parts.push(small.split().freeze());
    }
    if parts.len() == 1 {
        return Ok((parts.swap_remove(0), truncated));
    }
    let mut buf = BytesMut::with_capacity(total);
    for part in parts {
        buf.extend_from_slice(&part);
    }
    Ok((buf.freeze(), truncated))
}
