{-# LANGUAGE OverloadedStrings #-}
-- | An incremental parser for @text/event-stream@, as the HTML living standard
-- defines it. Feed it the body in chunks of any size; it returns each event as soon
-- as the blank line that ends it has arrived.
module Owt.SSE
  ( OwtEvent (..)
  , SseParser
  , newSseParser
  , sseFeed
  , sseFinish
  ) where

import qualified Data.ByteString as B
import Data.Text (Text)
import qualified Data.Text as T
import qualified Data.Text.Encoding as TE
import qualified Data.Text.Encoding.Error as TE

-- | One dispatched event.
data OwtEvent = OwtEvent
  { eventType :: Text
    -- ^ @message@ unless an @event:@ field said otherwise.
  , eventData :: Text
  , eventId :: Maybe Text
    -- ^ The last event id seen so far.
  }
  deriving (Eq, Show)

data SseParser = SseParser
  { spBuf :: B.ByteString
  , spData :: [Text] -- reversed
  , spHasData :: Bool
  , spType :: Text
  , spLastId :: Maybe Text
  , spStarted :: Bool
  }

newSseParser :: SseParser
newSseParser = SseParser B.empty [] False "" Nothing False

bom :: B.ByteString
bom = "\xef\xbb\xbf"

-- | Consume bytes; return the events they completed.
sseFeed :: B.ByteString -> SseParser -> ([OwtEvent], SseParser)
sseFeed chunk p0
  | not (spStarted p0) && B.length buf0 < B.length bom && buf0 `B.isPrefixOf` bom = ([], p0 {spBuf = buf0})
  | otherwise = loop [] (p0 {spBuf = B.empty, spStarted = True}) start
  where
    buf0 = spBuf p0 <> chunk
    start
      | spStarted p0 = buf0
      | otherwise = maybe buf0 id (B.stripPrefix bom buf0)
    loop acc p buf = case B.findIndex (\w -> w == 13 || w == 10) buf of
      Nothing -> (reverse acc, p {spBuf = buf})
      Just i
        | B.index buf i == 13 && i + 1 == B.length buf -> (reverse acc, p {spBuf = buf}) -- maybe half of \r\n
        | otherwise ->
            let skip = if B.index buf i == 13 && B.index buf (i + 1) == 10 then 2 else 1
                (evs, p') = line (B.take i buf) p
             in loop (reverse evs ++ acc) p' (B.drop (i + skip) buf)

-- | End of stream: a trailing @\\r@ ends its line; an unterminated event is dropped.
sseFinish :: SseParser -> ([OwtEvent], SseParser)
sseFinish p =
  let buf = spBuf p
      (evs, p')
        | not (B.null buf) && B.last buf == 13 = line (B.init buf) p
        | otherwise = ([], p)
   in (evs, p' {spBuf = B.empty, spData = [], spHasData = False, spType = ""})

line :: B.ByteString -> SseParser -> ([OwtEvent], SseParser)
line raw p
  | B.null raw =
      let evs =
            [ OwtEvent
                (if T.null (spType p) then "message" else spType p)
                (T.intercalate "\n" (reverse (spData p)))
                (spLastId p)
            | spHasData p
            ]
       in (evs, p {spData = [], spHasData = False, spType = ""})
  | T.head txt == ':' = ([], p)
  | otherwise = case name of
      "data" -> ([], p {spData = value : spData p, spHasData = True})
      "event" -> ([], p {spType = value})
      "id" | not (T.any (== '\0') value) -> ([], p {spLastId = Just value})
      _ -> ([], p)
  where
    txt = TE.decodeUtf8With TE.lenientDecode raw
    (name, rest) = T.breakOn ":" txt
    value = case T.uncons rest of
      Nothing -> ""
      Just (_, v) -> maybe v id (T.stripPrefix " " v)
