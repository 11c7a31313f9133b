export { type BlockDiagnostic, checkBlocks, type WrittenBlock, writeBlocks } from './check-blocks.ts';
export { extractBlocks, type ReadmeBlock, ReadmeMarkError } from './extract-blocks.ts';
export { findReadmes, PACKAGE_GROUPS } from './find-readmes.ts';
export { workspacePaths } from './workspace-paths.ts';
