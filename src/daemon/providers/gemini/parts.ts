/**
 * OpenAI message content -> Gemini parts: text, images (a data URL becomes `inlineData`, any
 * other URL `fileData` with a MIME type guessed from its extension, since Gemini wants one),
 * input audio and inline files. Kept apart from request.ts so the message walk stays short.
 */
import type { OpenAIContentPart, OpenAITextPart } from '../openai/types.js';
import type { GeminiPart } from './types.js';

const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  mp4: 'video/mp4',
};

export function parseDataUrl(url: string): { mimeType: string; data: string } | undefined {
  if (!url.startsWith('data:')) return undefined;
  const comma = url.indexOf(',');
  if (comma === -1) return undefined;
  const meta = url.slice(5, comma);
  if (!meta.endsWith(';base64')) return undefined;
  return { mimeType: meta.slice(0, -7) || 'application/octet-stream', data: url.slice(comma + 1) };
}

export function guessMime(url: string): string {
  let pathname = url;
  try {
    pathname = new URL(url).pathname;
  } catch {
    // not an absolute URL: use the string as it is
  }
  const ext = /\.([a-z0-9]+)$/i.exec(pathname)?.[1]?.toLowerCase();
  return (ext === undefined ? undefined : MIME_BY_EXT[ext]) ?? 'image/jpeg';
}

function urlPart(url: string): GeminiPart {
  const inline = parseDataUrl(url);
  if (inline !== undefined) return { inlineData: inline };
  return { fileData: { mimeType: guessMime(url), fileUri: url } };
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function otherPart(part: OpenAIContentPart, dropped: string[]): GeminiPart | undefined {
  if (part.type === 'input_audio') {
    const audio = record(part.input_audio);
    if (typeof audio?.data === 'string') {
      const format = typeof audio.format === 'string' ? audio.format : 'wav';
      return { inlineData: { mimeType: `audio/${format}`, data: audio.data } };
    }
  } else if (part.type === 'file') {
    const file = record(part.file);
    const inline = typeof file?.file_data === 'string' ? parseDataUrl(file.file_data) : undefined;
    if (inline !== undefined) return { inlineData: inline };
  }
  dropped.push(`messages.content.${part.type}`);
  return undefined;
}

/** A user message's content -> parts; parts Gemini cannot take are named in `dropped`. */
export function contentToParts(content: string | OpenAIContentPart[], dropped: string[]): GeminiPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const parts: GeminiPart[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      if (part.text !== '') parts.push({ text: part.text });
    } else if (part.type === 'image_url') {
      parts.push(urlPart(part.image_url.url));
    } else {
      const p = otherPart(part, dropped);
      if (p !== undefined) parts.push(p);
    }
  }
  return parts;
}

export function textOf(content: string | OpenAITextPart[] | null | undefined): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => p.text).join('');
}
