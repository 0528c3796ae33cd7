{-# LANGUAGE OverloadedStrings #-}
-- | Which code the server already has: a client sends code in full once, then by digest.
--
-- PROTOCOL.md §2: @code_sha256@ names code the server has seen. A server that does not
-- have it (never sent, evicted, or keeping no code store) answers 404 with the JSON body
-- @{"error": "unknown code_sha256", ...}@; the client then sends the code in full again.
-- A server that forgets the same code twice in a row keeps none (or too little to
-- matter): for that code the client stops trying the digest.
module Owt.Codes
  ( CodeMemory
  , newCodeMemory
  , codeKnown
  , codeSent
  , codeWorked
  , codeUnknown
  , isUnknownCode
  , unknownCode
  ) where

import Data.Aeson (Value (..), decodeStrict)
import qualified Data.Aeson.KeyMap as KM
import qualified Data.ByteString as B
import qualified Data.ByteString.Char8 as B8
import Data.IORef
import qualified Data.Map.Strict as M
import qualified Data.Set as S
import Data.Text (Text)

-- | The @error@ of the 404 that asks for the code in full.
unknownCode :: Text
unknownCode = "unknown code_sha256"

giveUpAfter :: Int
giveUpAfter = 2

-- | What the clients sharing it know one server has (safe to share between threads).
newtype CodeMemory = CodeMemory (IORef (S.Set Text, M.Map Text Int))

newCodeMemory :: IO CodeMemory
newCodeMemory = CodeMemory <$> newIORef (S.empty, M.empty)

-- | Whether the next call of the code with this digest may go by digest.
codeKnown :: CodeMemory -> Text -> IO Bool
codeKnown (CodeMemory r) d = S.member d . fst <$> readIORef r

-- | The code went in full and the server answered 2xx.
codeSent :: CodeMemory -> Text -> IO ()
codeSent (CodeMemory r) d =
  atomicModifyIORef' r $ \(known, misses) ->
    ((if M.findWithDefault 0 d misses < giveUpAfter then S.insert d known else known, misses), ())

-- | A call by digest was answered: the server keeps this code.
codeWorked :: CodeMemory -> Text -> IO ()
codeWorked (CodeMemory r) d = atomicModifyIORef' r $ \(known, misses) -> ((known, M.delete d misses), ())

-- | The server answered "unknown code_sha256": the code goes in full next.
codeUnknown :: CodeMemory -> Text -> IO ()
codeUnknown (CodeMemory r) d =
  atomicModifyIORef' r $ \(known, misses) -> ((S.delete d known, M.insertWith (+) d 1 misses), ())

-- | Whether a response (status and body) is the server's "unknown code_sha256" 404.
isUnknownCode :: Int -> B.ByteString -> Bool
isUnknownCode status body
  | status /= 404 || not ("{" `B.isPrefixOf` B8.dropWhile (`elem` (" \t\r\n" :: String)) body) = False
  | otherwise = case decodeStrict body of
      Just (Object o) -> KM.lookup "error" o == Just (String unknownCode)
      _ -> False
