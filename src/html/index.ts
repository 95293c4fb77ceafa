// Streaming HTML rewriter (lol-html compatible): public API.
export { HTMLRewriter, charsetOf } from './html-rewriter.ts';
export { HTMLRewriterTransform } from './stream.ts';
export { RewriterEngine, type DocumentHandlers, type ElementHandlers, type RewriterOptions } from './rewriter.ts';
export { Comment, Doctype, DocumentEnd, Element, EndTag, TextChunk, type ContentOptions, type EndTagHandler } from './content.ts';
export {
  AttributeNameError, CommentTextError, ExpiredTokenError, MemoryLimitExceededError, ParsingAmbiguityError, RewriterPoisonedError,
  SelectorError, TagNameError, type AttributeNameErrorKind, type CommentTextErrorKind, type SelectorErrorKind, type TagNameErrorKind,
} from './errors.ts';
