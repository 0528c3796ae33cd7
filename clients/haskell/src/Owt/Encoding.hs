{-# LANGUAGE OverloadedStrings #-}
-- | The canonical request encoding shared by every owt client (@clients/README.md@):
-- the fields of a call, its GET query string and its POST JSON body.
module Owt.Encoding
  ( -- * Calls
    OwtCall (..)
  , defaultCall
  , Kwargs
  , kwargs
  , kwargsText
    -- * Fields
  , FieldValue (..)
  , encodeFields
  , queryFromFields
  , bodyFromFields
  , encodeQuery
  , encodeBody
    -- * Pieces
  , codeSha256
  , compactJson
  , canonicalEscapes
  , percentEncode
  , base64Text
  , withQuery
  ) where

import Crypto.Hash (SHA256 (..), hashWith)
import Data.Aeson (ToJSON (..))
import qualified Data.Aeson.Encoding as E
import qualified Data.Aeson.Key as K
import Data.Bits (shiftL, shiftR, (.&.), (.|.))
import qualified Data.ByteString as B
import qualified Data.ByteString.Base64 as B64
import qualified Data.ByteString.Builder as BB
import qualified Data.ByteString.Lazy as L
import Data.Char (chr, ord)
import Data.Text (Text)
import qualified Data.Text as T
import qualified Data.Text.Encoding as TE
import Data.Word (Word8)

-- | The canonical compact JSON text of a kwargs value (UTF-8).
newtype Kwargs = Kwargs L.ByteString
  deriving (Eq, Show)

-- | Kwargs from any JSON value. Records keep their field order; objects built from a
-- 'Data.Aeson.Value' are written with sorted keys. A value that is not an object (a
-- string, number, list, Bool) arrives on the server as @{"__last__": value}@.
kwargs :: ToJSON a => a -> Kwargs
kwargs = Kwargs . compactJson

-- | The compact JSON text of kwargs.
kwargsText :: Kwargs -> L.ByteString
kwargsText (Kwargs t) = t

-- | Everything one request can carry. Empty texts, 'Nothing' and 'False' are not sent.
data OwtCall = OwtCall
  { callCode :: Text
    -- ^ Python source to run.
  , callByDigest :: Bool
    -- ^ Send the code's SHA-256 (@code_sha256@) instead of the code, for a server that
    -- has seen it. A client does this by itself after a code's first call.
  , callCodeSig :: Text
    -- ^ The base64 Ed25519 signature of the code (@code_sig@); a client with a signer
    -- fills it in.
  , callKwargs :: Maybe Kwargs
    -- ^ 'Nothing', JSON @null@ and @{}@ all mean no kwargs.
  , callFnName :: Text
    -- ^ The callable to run (the server's default is @run@).
  , callAdaptor :: Text
    -- ^ A named adaptor on the server: @module@ or @module.function@.
  , callUseCache :: Bool
  , callCacheKwargs :: Bool
  , callPath :: Text
    -- ^ Appended to the client's URL path; the adaptor sees it as @request.path@.
  }
  deriving (Eq, Show)

-- | A call that sends nothing; set the fields you need.
defaultCall :: OwtCall
defaultCall = OwtCall "" False "" Nothing "" "" False False ""

-- | A field's value: text, or JSON @true@ for the flags.
data FieldValue = FieldText Text | FieldTrue
  deriving (Eq, Show)

-- | Standard base64 (padding kept, no line breaks) of bytes, as text.
base64Text :: B.ByteString -> Text
base64Text = TE.decodeLatin1 . B64.encode

-- | The request fields of a call, in canonical order.
encodeFields :: OwtCall -> [(Text, FieldValue)]
encodeFields c =
  concat
    [ [("code_b64", FieldText (base64Text (TE.encodeUtf8 (callCode c)))) | hasCode, not (callByDigest c)]
    , [("code_sha256", FieldText (codeSha256 (callCode c))) | hasCode, callByDigest c]
    , [("code_sig", FieldText (callCodeSig c)) | not (T.null (callCodeSig c))]
    , case callKwargs c of
        Just (Kwargs t) | t /= "null" && t /= "{}" -> [("kwargs_b64", FieldText (base64Text (L.toStrict t)))]
        _ -> []
    , [("fn_name", FieldText (callFnName c)) | not (T.null (callFnName c))]
    , [("adaptor", FieldText (callAdaptor c)) | not (T.null (callAdaptor c))]
    , [("use_cache", FieldTrue) | callUseCache c]
    , [("cache_kwargs", FieldTrue) | callCacheKwargs c]
    ]
  where
    hasCode = not (T.null (callCode c))

-- | The @code_sha256@ of a code: the lower-case hex SHA-256 of its UTF-8 bytes.
codeSha256 :: Text -> Text
codeSha256 = T.pack . show . hashWith SHA256 . TE.encodeUtf8

-- | The query string of fields (no leading @?@).
queryFromFields :: [(Text, FieldValue)] -> B.ByteString
queryFromFields = B.intercalate "&" . map field
  where
    field (name, value) = TE.encodeUtf8 name <> "=" <> percentEncode (TE.encodeUtf8 (text value))
    text (FieldText t) = t
    text FieldTrue = "true"

-- | The JSON body of fields: one object, the flags as JSON @true@.
bodyFromFields :: [(Text, FieldValue)] -> L.ByteString
bodyFromFields fields = canonicalEscapes (E.encodingToLazyByteString (E.pairs (foldMap pair fields)))
  where
    pair (name, FieldText t) = E.pair (K.fromText name) (E.text t)
    pair (name, FieldTrue) = E.pair (K.fromText name) (E.bool True)

-- | The GET query string of a call.
encodeQuery :: OwtCall -> B.ByteString
encodeQuery = queryFromFields . encodeFields

-- | The POST JSON body of a call.
encodeBody :: OwtCall -> L.ByteString
encodeBody = bodyFromFields . encodeFields

-- | The canonical compact JSON text of a value: what Python's
-- @json.dumps(v, separators=(",", ":"), ensure_ascii=False)@ writes.
compactJson :: ToJSON a => a -> L.ByteString
compactJson = canonicalEscapes . E.encodingToLazyByteString . toEncoding

-- | Rewrites the string escapes of compact JSON text into the canonical ones:
-- @\\uXXXX@ for a printable character becomes the character itself (UTF-8),
-- U+0008 and U+000C become @\\b@ and @\\f@, other control characters lowercase
-- @\\u00xx@, and @\\/@ becomes @/@.
canonicalEscapes :: L.ByteString -> L.ByteString
canonicalEscapes text
  | not (L.elem backslash text) = text
  | otherwise = BB.toLazyByteString (go (L.toStrict text))
  where
    go s = case B.elemIndex backslash s of
      Nothing -> BB.byteString s
      Just i ->
        let (before, rest) = B.splitAt i s
         in BB.byteString before <> escape rest
    escape s
      | B.length s < 2 = BB.byteString s
      | otherwise = case B.index s 1 of
          0x2f -> BB.word8 0x2f <> go (B.drop 2 s)
          0x75
            | Just r <- hexAt 2 s ->
                if r >= 0xd800 && r < 0xdc00
                  then case (B.take 2 (B.drop 6 s), hexAt 8 s) of
                    ("\\u", Just lo) | lo >= 0xdc00 && lo < 0xe000 ->
                      BB.charUtf8 (chr (0x10000 + ((r - 0xd800) `shiftL` 10) + (lo - 0xdc00))) <> go (B.drop 12 s)
                    _ -> BB.byteString (B.take 6 s) <> go (B.drop 6 s)
                  else
                    if r >= 0xdc00 && r < 0xe000
                      then BB.byteString (B.take 6 s) <> go (B.drop 6 s)
                      else jsonChar (chr r) <> go (B.drop 6 s)
          _ -> BB.byteString (B.take 2 s) <> go (B.drop 2 s)
    hexAt i s
      | B.length s < i + 4 = Nothing
      | otherwise = B.foldl' step (Just 0) (B.take 4 (B.drop i s))
    step acc w = do
      a <- acc
      d <- hexDigit w
      pure (a `shiftL` 4 .|. d)
    backslash = 0x5c

hexDigit :: Word8 -> Maybe Int
hexDigit w
  | w >= 0x30 && w <= 0x39 = Just (fromIntegral w - 0x30)
  | w >= 0x61 && w <= 0x66 = Just (fromIntegral w - 0x61 + 10)
  | w >= 0x41 && w <= 0x46 = Just (fromIntegral w - 0x41 + 10)
  | otherwise = Nothing

-- | One character inside a JSON string, canonically escaped.
jsonChar :: Char -> BB.Builder
jsonChar c = case c of
  '"' -> "\\\""
  '\\' -> "\\\\"
  '\b' -> "\\b"
  '\f' -> "\\f"
  '\n' -> "\\n"
  '\r' -> "\\r"
  '\t' -> "\\t"
  _
    | ord c < 0x20 -> "\\u00" <> BB.word8 (lowerHex (ord c `shiftR` 4)) <> BB.word8 (lowerHex (ord c .&. 15))
    | otherwise -> BB.charUtf8 c
  where
    lowerHex n = B.index "0123456789abcdef" n

-- | Percent-encodes every byte except the RFC 3986 unreserved characters
-- (@A-Z a-z 0-9 - . _ ~@), with uppercase hex.
percentEncode :: B.ByteString -> B.ByteString
percentEncode = L.toStrict . BB.toLazyByteString . B.foldr (\w b -> enc w <> b) mempty
  where
    enc w
      | unreserved w = BB.word8 w
      | otherwise = BB.word8 0x25 <> BB.word8 (upperHex (w `shiftR` 4)) <> BB.word8 (upperHex (w .&. 15))
    upperHex n = B.index "0123456789ABCDEF" (fromIntegral n)
    unreserved w =
      (w >= 0x41 && w <= 0x5a) || (w >= 0x61 && w <= 0x7a) || (w >= 0x30 && w <= 0x39)
        || w == 0x2d || w == 0x2e || w == 0x5f || w == 0x7e

-- | A URL with a query appended after @?@, or @&@ when it already has a query.
withQuery :: String -> B.ByteString -> String
withQuery url q
  | B.null q = url
  | '?' `elem` url = url ++ "&" ++ ascii q
  | otherwise = url ++ "?" ++ ascii q
  where
    ascii = T.unpack . TE.decodeLatin1
